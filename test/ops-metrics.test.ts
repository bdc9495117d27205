// /metrics on the admin port: passes `promtool check metrics` (Debian's prometheus package), counts
// exactly the traffic sent, and is never served on the public port.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { request } from './helpers/http';
import { shipEnv, startS3, waitFor } from './helpers/s3';
import { serverPool } from './helpers/server';

const server = serverPool(t);

/** The value of one sample line (exact name and labels), or null. */
function sample(text: string, series: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return null;
}

t.test('metrics count the traffic and pass promtool', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await server({ collector: { paths: { '/acme/track': '/com.snowplowanalytics.snowplow/tp2' } }, wal: { maxRecordBytes: 3000 } }, shipEnv(s3, 1));
  for (let i = 0; i < 30; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=${i}` })).status, 200);
  const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: 'p' }] });
  for (let i = 0; i < 5; i++) await request(s.port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', body, headers: [['Content-Type', 'application/json']] });
  for (let i = 0; i < 4; i++) await request(s.port, { method: 'POST', path: '/acme/track', body, headers: [['Content-Type', 'application/json']] });
  await request(s.port, { path: `/i?e=pv&pad=${'y'.repeat(4000)}` }); // a size violation: one bad row
  for (let i = 0; i < 3; i++) await request(s.port, { path: '/nothing-here' });
  await request(s.port, { method: 'OPTIONS', path: '/i', headers: [['Origin', 'https://a.example']] });
  t.equal((await request(s.port, { path: '/metrics' })).status, 404, 'no metrics on the public port');

  const text = await waitFor('a shipped segment in the metrics', async () => {
    const m = (await request(s.adminPort!, { path: '/metrics' })).text;
    return (sample(m, 'sluice_ship_segments_total') ?? 0) >= 1 ? m : null;
  });
  t.equal(sample(text, 'sluice_http_requests_total{endpoint="pixel",method="GET",status="200"}'), 31, 'pixels');
  t.equal(sample(text, 'sluice_http_requests_total{endpoint="tp2",method="POST",status="200"}'), 9, 'tp2 posts, custom path included');
  t.equal(sample(text, 'sluice_http_requests_total{endpoint="other",method="GET",status="404"}'), 4, '404s (the public /metrics among them)');
  t.equal(sample(text, 'sluice_http_requests_total{endpoint="preflight",method="OPTIONS",status="200"}'), 1, 'preflight');
  t.equal(sample(text, 'sluice_http_request_body_bytes_total'), 9 * Buffer.byteLength(body), 'body bytes');
  t.equal(sample(text, 'sluice_wal_records_appended_total{kind="good"}'), 39, 'good records');
  t.equal(sample(text, 'sluice_wal_records_appended_total{kind="bad"}'), 1, 'bad rows');
  t.equal(sample(text, 'sluice_ack_latency_seconds_count'), 40, 'one latency per stored request');
  const p99 = sample(text, 'sluice_ack_latency_seconds{quantile="0.99"}')!;
  t.ok(p99 > 0 && p99 < 30, `p99 latency is a real figure (${p99} s)`);
  t.ok(sample(text, 'sluice_ack_latency_seconds{quantile="1"}')! >= p99, 'max ≥ p99');
  t.ok(sample(text, 'sluice_wal_syncs_total')! >= 1, 'syncs counted');
  t.ok(sample(text, 'sluice_wal_free_disk_bytes')! > 0, 'free disk');
  t.ok(sample(text, 'process_resident_memory_bytes')! > 10e6, 'RSS, under the conventional name');
  t.ok(sample(text, 'process_cpu_seconds_total')! > 0, 'CPU');
  t.ok(sample(text, 'process_open_fds')! > 5, 'open file descriptors');
  t.ok(sample(text, 'process_max_fds')! >= sample(text, 'process_open_fds')!, 'and their limit');
  t.match(text, /^process_start_time_seconds \d+$/m, 'start time');
  // Histograms (they aggregate across instances): cumulative buckets, +Inf equal to the count.
  const buckets = [...text.matchAll(/^sluice_http_ack_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])] as const);
  t.ok(buckets.length > 10, `${buckets.length} ack latency buckets`);
  t.ok(buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1]![1]), 'cumulative');
  t.same(buckets[buckets.length - 1], ['+Inf', 40], '+Inf holds every stored request');
  t.equal(sample(text, 'sluice_http_ack_duration_seconds_count'), 40);
  t.equal(sample(text, 'sluice_wal_sync_duration_seconds_count'), sample(text, 'sluice_wal_syncs_total'), 'one sync duration per sync');
  t.equal(sample(text, 'sluice_http_request_events_bucket{le="1"}'), 40, 'every request here carried one tracker event');
  t.equal(sample(text, 'sluice_http_events_total'), 40, 'tracker events');
  const lastUpload = sample(text, 'sluice_sink_last_success_timestamp_seconds{sink="s3"}')!;
  t.ok(Math.abs(Date.now() / 1000 - lastUpload) < 60, `the last upload to S3 was just now (${lastUpload})`);
  t.ok(sample(text, 'sluice_ship_bytes_total')! > 0, 'shipped bytes');
  t.match(text, /^sluice_ship_lag_seconds \d/m, 'shipping lag');
  t.match(text, /^sluice_event_loop_delay_seconds\{quantile="0.99"\} /m, 'event-loop delay');
  t.equal(sample(text, 'sluice_healthy{check="all"}'), 1, 'healthy');

  // Debian's promtool (scripts/test.sh installs it) is the judge of the format.
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  t.equal(`${check.stdout}${check.stderr}`.trim(), '', 'no lint warnings');
});

t.test('the admin port binds to loopback by default, elsewhere only when configured', async (t) => {
  const s = await server({ ship: { enabled: false } });
  t.match(s.output(), /"adminInterface":"127\.0\.0\.1"/, 'logged at start');
  const off = await server({ ship: { enabled: false }, admin: { enabled: false } });
  t.equal(off.adminPort, null, 'admin.enabled false: no admin port');
  const r = await request(s.adminPort!, { path: '/nope' });
  t.equal(r.status, 404);
  t.equal((await request(s.adminPort!, { method: 'POST', path: '/metrics' })).status, 405, 'GET only');
});
