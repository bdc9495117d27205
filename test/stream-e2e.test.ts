// End to end with a real Kinesis API (kinesalite): an SSC Kinesis config file, unchanged, turns the
// stream sink on; every acknowledged event is read back from the stream with GetRecords over every
// shard and decoded with the reference Thrift code, field for field; the good records are the same
// bytes as those shipped to S3 as LZO; bad rows reach the bad stream.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { buildPageView, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { request } from './helpers/http';
import { KINESIS_ENV, startKinesis } from './helpers/kinesis';
import { lzopDecompress, parseBlocks } from './helpers/lzo-read';
import { healthDetail, metric } from './helpers/metrics';
import { decodeRecord, eidsOf } from './helpers/records';
import { shipEnv, startS3, waitFor } from './helpers/s3';
import { serverPool } from './helpers/server';

const server = serverPool(t);

/** SSC's config.kinesis.minimal.hocon as the stream-collector repository gives it (3.x form). */
const SSC_KINESIS_MINIMAL = `collector {
  license {
    accept = true
  }

  interface = "0.0.0.0"
  port = 8080

  streams {
    good {
      name = "good"
      region = eu-central-1
    }
    bad {
      name = "bad"
      region = eu-central-1
    }
  }
}
`;

t.test('an unchanged SSC Kinesis config: every acknowledged event in the stream, the same records in S3', async (t) => {
  const kinesis = await startKinesis();
  t.teardown(() => kinesis.stop());
  await kinesis.createStreams(['good', 'bad']);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await server(SSC_KINESIS_MINIMAL, { ...KINESIS_ENV, ...shipEnv(s3), SLUICE_KINESIS_ENDPOINT: kinesis.endpoint });
  t.match(s.output(), /"msg":"stream sink started"/, 'the streams block turned the sink on');

  const acked = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = await request(s.port, { path: `/i?e=pv&eid=px-${i}&aid=stream`, headers: [['User-Agent', `agent-${i}`], ['Referer', `https://acme.com/r${i}`]] });
    if (r.status === 200) acked.add(`px-${i}`);
  }
  const tracker = newTracker({ namespace: 'ns', appId: 'stream', encodeBase64: false }, { endpoint: `127.0.0.1:${s.port}`, protocol: 'http', eventMethod: 'post', bufferSize: 5 });
  for (let i = 0; i < 50; i++) {
    tracker.track(buildPageView({ pageUrl: `https://acme.com/p${i}` }));
    tracker.track(buildStructEvent({ category: 'c', action: `a${i}` }));
  }
  await tracker.flush();
  t.equal(acked.size, 200, 'every pixel acknowledged');

  const records = await waitFor('every event in the stream', async () => {
    const recs = await kinesis.readAll('good');
    return recs.flatMap((r) => eidsOf(r.data)).length >= 300 ? recs : null;
  }, 30_000, 300);
  const eids = records.flatMap((r) => eidsOf(r.data));
  t.equal(eids.length, 300, '200 pixels and 100 tracker events, each once');
  t.ok([...acked].every((e) => eids.includes(e)), 'every acknowledged pixel is in the stream');
  t.ok(records.every((r) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.partitionKey)), 'partition keys are random UUIDs (SSC\'s default)');
  t.ok(new Set(records.map((r) => r.shard)).size === 2, 'records spread over both shards');

  // Field for field, with the reference decoder.
  const px = records.map((r) => decodeRecord(r.data)).filter((d) => d.path === '/i').sort((a, b) => Number(/px-(\d+)/.exec(a.querystring!)![1]) - Number(/px-(\d+)/.exec(b.querystring!)![1]));
  t.equal(px.length, 200);
  const first = px[0]!;
  t.equal(first.schema, 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0');
  t.equal(first.querystring, 'e=pv&eid=px-0&aid=stream');
  t.equal(first.userAgent, 'agent-0');
  t.equal(first.refererUri, 'https://acme.com/r0');
  t.equal(first.ipAddress, '127.0.0.1');
  t.equal(first.encoding, 'UTF-8');
  t.match(first.collector, /^sluice-[\d.]+-wal$/);
  t.match(first.networkUserId, /^[0-9a-f-]{36}$/);
  t.ok(Math.abs(first.timestamp - Date.now()) < 120_000, 'timestamp is the collection time');
  t.ok(px.every((d, i) => d.userAgent === `agent-${i}`), 'each pixel carries its own headers');

  // S3 holds the same records, byte for byte.
  const inS3 = await waitFor('the same records in S3', async () => {
    const out: Buffer[] = [];
    for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) out.push(...parseBlocks(lzopDecompress(await s3.get(o.Key!))).records);
    return out.length >= records.length ? out : null;
  }, 60_000, 500);
  const key = (b: Buffer): string => b.toString('base64');
  t.same(new Set(inS3.map(key)), new Set(records.map((r) => key(r.data))), 'stream and S3 hold identical CollectorPayload bytes');

  t.equal(await metric(s.adminPort!, 'sluice_stream_records_put_total', 'stream="good"'), records.length, 'records put, counted');
  const exposition = (await request(s.adminPort!, { path: '/metrics' })).text;
  const check = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics with the stream sink's figures: ${check.stdout}${check.stderr}`);
  const status = JSON.parse((await request(s.adminPort!, { path: '/status.json' })).text) as { streamLagMs: number | null; streamRecordsPut: number | null };
  t.equal(status.streamRecordsPut, records.length, 'the status page has the stream sink\'s figures');
  t.equal(status.streamLagMs, 0);
  const health = await healthDetail(s.adminPort!);
  t.ok(health.checks.some((c) => c.name === 'stream' && c.ok), `/health has the stream check: ${JSON.stringify(health.checks.find((c) => c.name === 'stream'))}`);
  t.equal((await request(s.port, { path: '/sink-health' })).status, 200, '/sink-health 200 while the stream takes records');
  t.equal(await s.stop('SIGTERM'), 0, 'SIGTERM: both sinks drain, exit 0');
  t.match(s.output(), /everything put into the stream/);
});

t.test('SSC 2.x form, IP partition keys, maxBytes: oversized records reach the bad stream as size_violation rows (spec 64)', async (t) => {
  const kinesis = await startKinesis();
  t.teardown(() => kinesis.stop());
  await kinesis.createStreams(['raw-good', 'raw-bad'], 1);
  const config = `collector {
  interface = "127.0.0.1"
  port = 8080
  streams {
    good = "raw-good"
    bad = "raw-bad"
    useIpAddressAsPartitionKey = true
    sink { enabled = kinesis, region = "eu-central-1", customEndpoint = "${kinesis.endpoint}", maxBytes = 10000, threadPoolSize = 10, aws { accessKey = iam, secretKey = iam }, backoffPolicy { minBackoff = 500, maxBackoff = 1500, maxRetries = 3 } }
    buffer { byteLimit = 3145728, recordLimit = 500, timeLimit = 5000 }
  }
}
ship.enabled = false
`;
  const s = await server(config, KINESIS_ENV);
  t.match(s.output(), /SSC 2\.x form/, 'the 2.x form is noted');
  for (let i = 0; i < 100; i++) {
    const r = await request(s.port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', headers: [['Content-Type', 'text/plain'], ['X-Forwarded-For', `10.0.0.${i % 4}`]], body: 'foo' });
    t.equal(r.status, 200);
  }
  for (let i = 0; i < 10; i++) {
    const r = await request(s.port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', headers: [['Content-Type', 'text/plain']], body: 'x'.repeat(10_001) });
    t.equal(r.status, 200, 'an oversized request is acknowledged (its bad row is stored)');
  }
  const good = await waitFor('good records', async () => { const r = await kinesis.readAll('raw-good'); return r.length >= 100 ? r : null; });
  const bad = await waitFor('bad rows', async () => { const r = await kinesis.readAll('raw-bad'); return r.length >= 10 ? r : null; });
  t.equal(good.length, 100, '100 good records');
  t.equal(bad.length, 10, '10 bad rows');
  t.same(new Set(good.map((r) => r.partitionKey)), new Set(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3']), 'partition key = the client IP (useIpAddressAsPartitionKey)');
  const row = JSON.parse(bad[0]!.data.toString('utf8')) as { schema: string; data: { failure: { maximumAllowedSizeBytes: number } } };
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0');
  t.equal(row.data.failure.maximumAllowedSizeBytes, 10_000, 'split at the stream\'s maxBytes, as SSC');
  await s.stop('SIGTERM');
});

t.test('a stream that does not exist yet: acknowledged to disk, /sink-health 503, delivered once it appears (spec 65)', async (t) => {
  const kinesis = await startKinesis();
  t.teardown(() => kinesis.stop());
  const s = await server({
    collector: { streams: { good: { name: 'late-good', customEndpoint: kinesis.endpoint, startupCheckInterval: '200 ms' }, bad: { name: 'late-bad', customEndpoint: kinesis.endpoint } } },
    ship: { enabled: false },
  }, KINESIS_ENV);
  for (let i = 0; i < 20; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=late-${i}` })).status, 200);
  t.equal((await request(s.port, { path: '/sink-health' })).status, 503, '/sink-health 503 while the streams are missing');
  const why = await waitFor('/health naming the missing stream', async () => {
    const c = (await healthDetail(s.adminPort!)).checks.find((x) => x.name === 'stream');
    return c !== undefined && !c.ok && /not reachable yet.*late-good/.test(c.detail) ? c.detail : null;
  }, 15_000);
  t.pass(`/health says why: ${why}`);
  await kinesis.createStreams(['late-good', 'late-bad'], 1);
  const recs = await waitFor('buffered events delivered', async () => { const r = await kinesis.readAll('late-good'); return r.length >= 20 ? r : null; });
  t.equal(recs.length, 20, 'every buffered event delivered once');
  await waitFor('sink healthy', async () => ((await request(s.port, { path: '/sink-health' })).status === 200 ? true : null));
  await s.stop('SIGTERM');
});
