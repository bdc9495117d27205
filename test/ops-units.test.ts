// Unit tests of src/ops: endpoints, the lifecycle's transitions, Prometheus text, the windowed
// histogram, request and WAL metrics, merging shard snapshots, the loop-delay monitor, the version.
import t from 'tap';
import { ENDPOINTS, endpointOf } from '../src/ops/endpoints';
import { Lifecycle, unhealthyReason } from '../src/ops/lifecycle';
import { mergeShards, type ShardSnapshot } from '../src/ops/metrics-snapshot';
import { LoopDelayMonitor } from '../src/ops/process-metrics';
import { PrometheusText } from '../src/ops/prometheus-text';
import { RequestMetrics } from '../src/ops/request-metrics';
import { ARTIFACT, VERSION } from '../src/ops/version';
import { WalMetrics } from '../src/ops/wal-metrics';
import { WindowedHistogram } from '../src/ops/windowed-histogram';
import { BucketHistogram, mergeBuckets } from '../src/ops/bucket-histogram';
import { tp2EventCount } from '../src/payload/tracker-events';
import { type SampledStatus, StatusHistory } from '../src/ops/status-history';
import { emptyCapturedRequest } from '../src/http/captured-request';
import { openWal, put, record, tempDir } from './helpers/wal';

t.test('endpoints', async (t) => {
  t.equal(endpointOf('get', '/i', {}), 'pixel');
  t.equal(endpointOf('post', '/com.snowplowanalytics.snowplow/tp2', {}), 'tp2');
  t.equal(endpointOf('post', '/custom/path', { '/custom/path': '/com.snowplowanalytics.snowplow/tp2' }), 'tp2', 'a custom path counts as what it maps to');
  t.equal(endpointOf('get', '/com.acme/v1', {}), 'vendor');
  t.equal(endpointOf('options', '/i', {}), 'preflight');
  t.equal(endpointOf('get', '/r/tp2', {}), 'redirect');
  t.equal(endpointOf('get', '/health', {}), 'health');
  t.equal(endpointOf('get', '/a/b/c', {}), 'other');
  t.ok(ENDPOINTS.includes('other'));
});

t.test('lifecycle: starting, serving, shutting down; every failing check named', async (t) => {
  const l = new Lifecycle({ maxLagMs: 1000, maxEventLoopDelayMs: 100 });
  t.match(l.unhealthyReason(), /starting/, 'unhealthy before anything is attached');
  t.notOk(l.sinkHealthy());
  let refusal: string | null = null;
  let loop = 5;
  l.attach({ walRefusal: () => refusal, sinkHealthy: () => refusal === null, loopDelayMs: () => loop }, null);
  t.throws(() => l.attach({ walRefusal: () => null, sinkHealthy: () => true, loopDelayMs: () => 0 }, null), 'attached once');
  t.match(l.unhealthyReason(), /^unhealthy: starting$/, 'still starting until serving');
  l.phase = 'serving';
  t.equal(l.unhealthyReason(), null, 'healthy while serving');
  t.ok(l.sinkHealthy());
  refusal = 'free disk 0 bytes is below the floor';
  loop = 500;
  const reason = l.unhealthyReason()!;
  t.match(reason, /free disk 0 bytes/, 'the WAL refusal');
  t.match(reason, /event-loop delay 500 ms exceeds 100 ms/, 'and the stall');
  refusal = null;
  loop = 0;
  l.phase = 'pre-termination';
  t.match(l.unhealthyReason(), /pre-termination/);
  l.phase = 'draining';
  t.match(l.unhealthyReason(), /shutting down/);
  t.equal(unhealthyReason([{ name: 'wal', ok: true, detail: 'x' }]), null);
});

t.test('Prometheus text: families, labels escaped, summaries', async (t) => {
  const h = new WindowedHistogram();
  for (const v of [1000, 2000, 3000]) h.record(v);
  const text = new PrometheusText()
    .single('x_total', 'counter', 'Things.\nTwo lines.', 3)
    .family('y', 'gauge', 'Y.').sample('y', 1.5, { path: 'a"b\\c\nd' })
    .summary('lat_seconds', 'Latency.', h.snapshot(), 1e6)
    .toString();
  t.match(text, /^# HELP x_total Things\.\\nTwo lines\.\n# TYPE x_total counter\nx_total 3\n/);
  t.match(text, /^y\{path="a\\"b\\\\c\\nd"\} 1\.5$/m, 'label value escaped');
  t.match(text, /^lat_seconds\{quantile="0\.5"\} 0\.002\d*$/m);
  t.match(text, /^lat_seconds_count 3$/m);
  t.match(text, /^lat_seconds_sum 0\.006$/m);
  t.throws(() => new PrometheusText().family('bad name', 'gauge', 'x'), /bad metric name/);
  t.throws(() => new PrometheusText().single('a', 'gauge', 'x', 1).single('a', 'gauge', 'x', 1), /twice/);
});

t.test('windowed histogram: quantiles over a sliding window', async (t) => {
  let now = 0;
  const h = new WindowedHistogram(1000, 3, () => now);
  for (let i = 1; i <= 100; i++) h.record(i * 10);
  const s = h.snapshot();
  t.equal(s.count, 100);
  t.ok(Math.abs(s.p50 - 500) <= 10, `p50 ${s.p50}`);
  t.ok(s.max >= 1000 && s.max <= 1001);
  now = 5000;
  const later = h.snapshot();
  t.equal(later.max, 0, 'the window moved past every value');
  t.equal(later.count, 100, 'the count is since start');
  t.throws(() => new WindowedHistogram(0, 1), /positive/);
});

t.test('request metrics: answers by endpoint, method, status; aborts; connections; ack latency', async (t) => {
  const m = new RequestMetrics({});
  const px = emptyCapturedRequest('get', '/i', '', '1.2.3.4');
  m.answered(px, 200, true, 0, performance.now() - 5);
  m.answered(px, 200, true, 0, performance.now());
  m.answered(emptyCapturedRequest('post', '/com.snowplowanalytics.snowplow/tp2', '', 'x'), 503, true, 100, performance.now());
  m.aborted(px);
  m.connectionOpened(); m.connectionOpened(); m.connectionClosed(); m.connectionEvicted(); m.connectionRefused();
  const s = m.snapshot();
  t.same(s.answers.sort(), [['pixel', 'get', 200, 2], ['tp2', 'post', 503, 1]].sort());
  t.equal(s.acknowledged, 2, 'only 200s of stored requests are acknowledged');
  t.equal(s.aborts['pixel'], 1);
  t.equal(s.bodyBytes, 100);
  t.same(s.connections, { open: 1, refused: 1, evicted: 1 });
  t.equal(s.ackLatency.count, 3);
});

t.test('WAL metrics from a real WAL; merged shard snapshots add up', async (t) => {
  const metrics = new WalMetrics();
  const wal = openWal(tempDir(), { observer: metrics });
  for (let i = 0; i < 10; i++) await put(wal, [record(i)]);
  const snap = metrics.snapshot(wal);
  t.equal(snap.goodRecords, 10);
  t.equal(snap.bytes, 1000);
  t.ok(snap.syncs >= 1 && snap.syncs <= 10, `syncs ${snap.syncs}`);
  t.equal(snap.refusal, null);
  await wal.close();
  const req = new RequestMetrics({});
  req.answered(emptyCapturedRequest('get', '/i', '', 'x'), 200, true, 0, performance.now());
  const loop = new WindowedHistogram().snapshot();
  const one: ShardSnapshot = { requests: req.snapshot(), wal: snap, loopDelay: loop, loopDelayLastMs: 3 };
  const two: ShardSnapshot = { ...one, wal: { ...snap, instanceId: 'other', refusal: 'full' }, loopDelayLastMs: 7 };
  const merged = mergeShards([one, two]);
  t.equal(merged.wal.goodRecords, 20, 'records add up');
  t.same(merged.requests.answers, [['pixel', 'get', 200, 2]], 'answers add up');
  t.equal(merged.wal.refusal, 'shard 1: full', 'a refusal names its shard');
  t.equal(merged.loopDelayLastMs, 7, 'the worst loop');
  t.equal(mergeShards([one]), one, 'one shard is itself');
});

t.test('loop-delay monitor sees a blocked loop', async (t) => {
  const m = new LoopDelayMonitor();
  t.teardown(() => m.close());
  await new Promise((r) => setTimeout(r, 100));
  const until = Date.now() + 120;
  while (Date.now() < until) { /* block the loop */ }
  await new Promise((r) => setTimeout(r, 1200));
  t.ok(m.delay.snapshot().max >= 80_000, `the 120 ms stall is in the per-second maxima (${m.delay.snapshot().max} µs)`);
});

t.test('version', async (t) => {
  t.match(VERSION, /^\d+\.\d+\.\d+/);
  t.equal(ARTIFACT, 'sluice');
});

t.test('BucketHistogram: fixed bounds, +Inf past the last, merged across shards; rendered cumulative', async (t) => {
  const h = new BucketHistogram([1, 5, 10]);
  for (const v of [0.5, 1, 3, 5, 7, 11, 1000]) h.record(v);
  const snap = h.snapshot();
  t.same(snap.counts, [2, 2, 1, 2], 'at or below each bound, then +Inf');
  t.equal(snap.count, 7);
  t.equal(snap.sum, 1027.5);
  const merged = mergeBuckets([snap, snap]);
  t.same(merged.counts, [4, 4, 2, 4], 'shards add up');
  t.equal(merged.sum, 2055);
  t.throws(() => new BucketHistogram([5, 1]), /ascend/);
  const text = new PrometheusText().histogram('x_seconds', 'h', snap, 1000).toString();
  t.match(text, /# TYPE x_seconds histogram\nx_seconds_bucket\{le="0.001"\} 2\nx_seconds_bucket\{le="0.005"\} 4\nx_seconds_bucket\{le="0.01"\} 5\nx_seconds_bucket\{le="\+Inf"\} 7\nx_seconds_sum 1.0275\nx_seconds_count 7\n/);
});

t.test('tracker events in a tp2 body: one per event, escaped quotes inside contexts not counted', async (t) => {
  const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: 'iglu:a/b/jsonschema/1-0-0', data: { e: 'inside' } }] });
  const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', co }, { e: 'se', se_ca: 'c' }, { e: 'ue', ue_pr: JSON.stringify({ e: 'x' }) }] });
  t.equal(tp2EventCount(Buffer.from(body)), 3);
  t.equal(tp2EventCount(Buffer.from('{}')), 0);
  t.equal(tp2EventCount(null), 0);
});

t.test('StatusHistory: a ring of the last samples, oldest first, with rates between them', async (t) => {
  const h = new StatusHistory(3);
  const snap = (at: number, records: number, s503: number): SampledStatus => ({
    at, goodRecords: records, badRecords: 0, latencyMs: { p99: 3 }, walBacklogBytes: 10, shippingLagMs: null, streamLagMs: null,
    answers: { s408: 0, s413: 0, s503, otherErrors: 0 },
  });
  const first = h.add(snap(1000, 0, 0));
  t.equal(first.recordsPerSecond, null, 'no rate from one sample');
  t.equal(first.non2xxPerSecond, null);
  const second = h.add(snap(3000, 200, 10));
  t.equal(second.recordsPerSecond, 100, '200 records over 2 s');
  t.same(second.non2xxPerSecond, { s408: 0, s413: 0, s503: 5, other: 0 });
  h.add(snap(4000, 300, 10));
  h.add(snap(5000, 400, 10));
  t.same(h.samples().map((x) => x.at), [3000, 4000, 5000], 'capacity 3: the oldest overwritten, oldest first');
  t.throws(() => new StatusHistory(0), /capacity/);
});
