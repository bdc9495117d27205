// Shipping under faults; each ends with every acknowledged event in S3 exactly once:
// s3rver stopped for a minute (SLUICE_TEST_OUTAGE_S) then restarted, a fault-injecting proxy
// answering 500 / 503 SlowDown or stalling, and SIGKILL between upload and WAL release.
import t, { type Test } from 'tap';
import * as http from 'node:http';
import { request } from './helpers/http';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, lzopTest, parseBlocks } from './helpers/lzo-read';
import { shipEnv, startS3, waitFor, type TestS3 } from './helpers/s3';
import { serverPool, startServer } from './helpers/server';
import { peakRss, recordScenario } from './helpers/reliability';

const server = serverPool(t);
const OUTAGE_S = Number(process.env['SLUICE_TEST_OUTAGE_S'] ?? 60);
const fastRetry = { ship: { retryBaseDelayMs: '50 ms', retryMaxDelayMs: '500 ms', maxAttempts: 4 }, s3: { requestTimeoutMs: '1 second' } };

async function shippedEids(s3: TestS3): Promise<string[]> {
  const out: string[] = [];
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    const file = await s3.get(o.Key!);
    lzopTest(file);
    for (const rec of parseBlocks(lzopDecompress(file)).records) out.push(new URLSearchParams(decodeRecord(rec).querystring!).get('eid')!);
  }
  return out;
}

async function expectExactlyOnce(t: Test, s3: TestS3, acked: Set<string>): Promise<{ lost: number; duplicates: number }> {
  const eids = await waitFor('every acknowledged event in S3', async () => {
    const e = await shippedEids(s3);
    return [...acked].every((id) => e.includes(id)) ? e : null;
  }, 60_000, 500);
  const counts = new Map<string, number>();
  for (const e of eids) counts.set(e, (counts.get(e) ?? 0) + 1);
  const lost = [...acked].filter((id) => !counts.has(id)).length;
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  t.equal(lost, 0, `no acknowledged event missing (${acked.size})`);
  t.equal(duplicates, 0, 'no event twice');
  return { lost, duplicates };
}

t.test(`S3 down for ${OUTAGE_S} s, then back`, async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop().catch(() => undefined));
  const s = await server({ ...fastRetry, ship: { ...fastRetry.ship, maxLagMs: '5 seconds' } }, shipEnv(s3, 2));
  await waitFor('healthy', async () => ((await request(s.port, { path: '/health' })).status === 200 ? true : null));
  const acked = new Set<string>();
  let n = 0;
  const send = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const id = `o${n++}`;
      if ((await request(s.port, { path: `/i?e=pv&eid=${id}` })).status === 200) acked.add(id);
    }
  };
  await send(50);
  await s3.stop();
  const until = Date.now() + OUTAGE_S * 1000;
  let sawLag = false;
  while (Date.now() < until) {
    await send(20);
    const h = await request(s.port, { path: '/health' });
    if (h.status === 503 && /shipping lag/.test(h.text)) sawLag = true;
    await new Promise((r) => setTimeout(r, 500));
  }
  t.ok(sawLag, '/health shows the shipping lag during the outage');
  t.ok(acked.size >= 50 + 20, `events still accepted during the outage (${acked.size})`);
  await s3.restart();
  const r = await expectExactlyOnce(t, s3, acked);
  await waitFor('healthy again', async () => ((await request(s.port, { path: '/health' })).status === 200 ? true : null), 30_000);
  recordScenario({ id: 'fault-s3-down', group: 'fault', title: `S3 down for ${OUTAGE_S} s under traffic, then back`, acknowledged: acked.size, ...r, crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid), notes: '/health 503 with the lag during the outage; healthy again after the backlog shipped' }, sawLag);
});

t.test('a proxy answering 500, 503 SlowDown or stalling', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const counts = { pass: 0, e500: 0, e503: 0, stall: 0, sse: 0 };
  const proxy = http.createServer((req, res) => {
    if (req.headers['x-amz-server-side-encryption'] === 'AES256') counts.sse++;
    const roll = Math.random();
    if (roll < 0.15) { counts.e500++; res.writeHead(500, { 'Content-Type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>injected</Message></Error>'); req.resume(); return; }
    if (roll < 0.3) { counts.e503++; res.writeHead(503, { 'Content-Type': 'application/xml' }).end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'); req.resume(); return; }
    if (roll < 0.4) { counts.stall++; setTimeout(() => res.destroy(), 3000); req.resume(); return; }
    counts.pass++;
    const up = http.request({ host: '127.0.0.1', port: s3.port, method: req.method, path: req.url, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode ?? 502, ur.headers); ur.pipe(res); });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const port = (proxy.address() as { port: number }).port;
  const s = await server({ ...fastRetry, s3: { ...fastRetry.s3, sse: 'AES256' } }, shipEnv({ endpoint: `http://127.0.0.1:${port}` }, 2));
  const acked = new Set<string>();
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 40; i++) {
      const id = `p${round}-${i}`;
      if ((await request(s.port, { path: `/i?e=pv&eid=${id}` })).status === 200) acked.add(id);
    }
    await new Promise((r) => setTimeout(r, 700));
  }
  const r = await expectExactlyOnce(t, s3, acked);
  t.ok(counts.e500 + counts.e503 + counts.stall > 0, `faults injected: ${JSON.stringify(counts)}`);
  recordScenario({ id: 'fault-s3-5xx-slow', group: 'fault', title: 'S3 answering 500, 503 SlowDown or stalling 3 s on 40% of requests', acknowledged: acked.size, ...r, crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid), notes: `requests: ${counts.pass} passed, ${counts.e500} × 500, ${counts.e503} × 503, ${counts.stall} stalled` }, counts.e500 + counts.e503 + counts.stall > 0);
  t.ok(counts.sse > 0, 'SSE-S3 header sent on uploads');
});

t.test('SIGKILL between upload and delete', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const first = await startServer({ config: fastRetry, env: { ...shipEnv(s3, 2), SLUICE_FAULT_KILL_AFTER_SHIP: '1' } });
  const acked = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const id = `k${i}`;
    if ((await request(first.port, { path: `/i?e=pv&eid=${id}` })).status === 200) acked.add(id);
  }
  const code = await first.exited;
  t.equal(code, null, 'killed right after the first confirmed upload');
  const before = await shippedEids(s3);
  t.ok(before.length > 0, `objects were uploaded before the kill (${before.length} events)`);
  const again = await server(fastRetry, { ...shipEnv(s3, 2), SLUICE_WAL_DIR: first.walDir });
  const r = await expectExactlyOnce(t, s3, acked);
  recordScenario({ id: 'crash-between-upload-and-release', group: 'crash', title: 'SIGKILL after an upload is confirmed, before the WAL releases the segment; restart', kills: 1, acknowledged: acked.size, ...r, crashes: again.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(again.proc.pid), notes: 'the segment is shipped again under the same keys: overwritten, not duplicated' }, true);
  await waitFor('WAL drained', async () => (/segment shipped/.test(again.output()) ? true : null));
});
