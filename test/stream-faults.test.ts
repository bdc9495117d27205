// The stream misbehaving under traffic, through a proxy in front of kinesalite: a 60 s outage
// (every call answered 500), then a throttling stream (part of every PutRecords batch refused with
// ProvisionedThroughputExceededException). The collector keeps acknowledging from disk until the
// WAL's bound (503 past it), /health and the metrics say what is happening, and afterwards every
// acknowledged event is in the stream exactly once (failed records never reached it).
import t from 'tap';
import { request } from './helpers/http';
import { KINESIS_ENV } from './helpers/kinesis';
import { kinesisBehindProxy } from './helpers/kinesis-proxy';
import { healthDetail, metric } from './helpers/metrics';
import { decodeRecord } from './helpers/records';
import { recordScenario, peakRss } from './helpers/reliability';
import { waitFor } from './helpers/s3';
import { serverPool } from './helpers/server';

const server = serverPool(t);
const OUTAGE_MS = 60_000;

t.test(`a ${OUTAGE_MS / 1000} s stream outage, then throttling: 0 lost, backlog drained, health telling the truth`, async (t) => {
  const { kinesis, proxy } = await kinesisBehindProxy(t, ['good', 'bad'], 2);
  const s = await server({
    collector: {
      preTerminationPeriod: '0 s',
      networking: { maxPayloadSize: 65536, dropPayloadSize: 65536 },
      streams: {
        good: { name: 'good', customEndpoint: proxy.endpoint, backoffPolicy: { minBackoff: 100, maxBackoff: 1000, maxRetries: 3 }, buffer: { recordLimit: 100 } },
        bad: { name: 'bad', customEndpoint: proxy.endpoint },
      },
    },
    wal: { maxRecordBytes: 65536, segmentBytes: '1 MiB', maxSegmentAgeMs: '1 s', maxUnshippedBytes: '3 MiB' },
    ship: { enabled: false },
    stream: { maxLagMs: '5 s', requestTimeoutMs: '2 s' },
  }, KINESIS_ENV);
  const acked = new Set<string>();
  const statuses: Record<string, number> = {};
  let n = 0;
  let running = true;
  const pad = 'p'.repeat(1000);
  const client = async (): Promise<void> => {
    while (running) {
      const eid = `f-${n++}`;
      const r = await request(s.port, { path: `/i?e=pv&eid=${eid}&pad=${pad}` });
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 200) acked.add(eid);
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  const clients = Array.from({ length: 4 }, client);
  await waitFor('traffic reaching the stream', async () => ((await metric(s.adminPort!, 'sluice_stream_records_put_total', 'stream="good"')) ?? 0) > 100 ? true : null);

  // The outage.
  proxy.mode = { kind: 'down' };
  const downAt = Date.now();
  const unhealthy = await waitFor('/health reporting the failing stream', async () => {
    const c = (await healthDetail(s.adminPort!)).checks.find((x) => x.name === 'stream');
    return c !== undefined && !c.ok ? c.detail : null;
  }, 20_000);
  t.match(unhealthy, /puts failing|lag/, `during the outage /health says: ${unhealthy}`);
  t.equal((await request(s.port, { path: '/sink-health' })).status, 503, '/sink-health 503 during the outage');
  const backlog = await waitFor('503 at the WAL bound', async () => (statuses['503'] ?? 0) > 0 ? true : null, OUTAGE_MS);
  t.ok(backlog, `acknowledged ${acked.size} from disk, then 503 once wal.maxUnshippedBytes was reached`);
  const walHealth = (await healthDetail(s.adminPort!)).checks.find((c) => c.name === 'wal');
  t.match(walHealth?.detail, /unshipped|bound|cap/i, `the WAL check names the bound: ${walHealth?.detail}`);
  t.ok((await metric(s.adminPort!, 'sluice_stream_failed_calls_total'))! > 0, 'failed calls counted');
  t.ok((await metric(s.adminPort!, 'sluice_stream_lag_bytes'))! > 0, 'lag in bytes grows');
  await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
  const lagS = (await metric(s.adminPort!, 'sluice_stream_lag_seconds'))!;
  t.ok(lagS >= OUTAGE_MS / 1000 - 15, `lag in seconds grew with the outage: ${lagS.toFixed(1)} s`);
  t.equal((await request(s.port, { path: '/i?e=pv&eid=refused' })).status, 503, 'still 503 at the end of the outage: nothing is acknowledged past the bound');

  // Back, but throttling a third of every batch.
  proxy.mode = { kind: 'throttle', refuseShare: 0.33 };
  await waitFor('200 again once the backlog drains', async () => {
    const r = await request(s.port, { path: '/i?e=pv&eid=probe' });
    return r.status === 200 ? true : null;
  }, 120_000, 500);
  acked.add('probe');
  await new Promise((r) => setTimeout(r, 4000));
  running = false;
  await Promise.all(clients);
  const peak = peakRss(s.proc.pid);
  const throttled = (await metric(s.adminPort!, 'sluice_stream_throttled_records_total'))!;
  t.ok(throttled > 0, `${throttled} throttled records counted`);
  proxy.mode = { kind: 'pass' };
  await waitFor('healthy again', async () => ((await healthDetail(s.adminPort!)).healthy ? true : null), 60_000, 500);
  t.equal(await s.stop('SIGTERM'), 0, 'drained and stopped');

  const records = await kinesis.readAll('good');
  const counts = new Map<string, number>();
  for (const r of records) {
    const eid = new URLSearchParams(decodeRecord(r.data).querystring!).get('eid')!;
    counts.set(eid, (counts.get(eid) ?? 0) + 1);
  }
  const lost = [...acked].filter((e) => !counts.has(e));
  const twice = [...counts.values()].filter((c) => c > 1).length;
  t.equal(lost.length, 0, `acknowledged events missing from the stream: ${lost.length} of ${acked.size}`);
  t.equal(twice, 0, 'none twice: refused records never reached the stream, so their retries are not duplicates');
  recordScenario({
    id: 'fault-stream-outage', group: 'fault', title: `Kinesis down for ${OUTAGE_MS / 1000} s under traffic, then throttling a third of every batch`,
    acknowledged: acked.size, lost: lost.length, duplicates: twice, crashes: 0, peakRssBytes: peak,
    notes: `statuses ${JSON.stringify(statuses)}; ${proxy.counts.refusedCalls} calls refused in the outage, ${throttled} records throttled and retried; /health: ${unhealthy}`,
  }, lost.length === 0 && twice === 0);
});
