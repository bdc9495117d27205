// Faults on the collector's own machine, each under traffic and each ending with every
// acknowledged event in S3 exactly once: slow syncs (an injected delay before every fdatasync) and
// the wall clock stepped an hour backwards (libfaketime, monotonic clock untouched, as when NTP
// steps a clock).
import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './helpers/http';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, parseBlocks } from './helpers/lzo-read';
import { peakRss, recordScenario } from './helpers/reliability';
import { shipEnv, startS3, waitFor, type TestS3 } from './helpers/s3';
import { serverPool, type RunningServer } from './helpers/server';

const server = serverPool(t);
const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

async function shippedCounts(s3: TestS3): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    for (const rec of parseBlocks(lzopDecompress(await s3.get(o.Key!))).records) {
      const id = new URLSearchParams(decodeRecord(rec).querystring!).get('eid')!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** `clients` loops sending pixels until `stop()`; returns the acknowledged ids. */
function load(s: RunningServer, tag: string, clients: number): { acked: Set<string>; statuses: Map<number, number>; stop: () => Promise<void> } {
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const id = `${tag}${n++}`;
      const r = await request(s.port, { path: `/i?e=pv&eid=${id}` });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) acked.add(id);
    }
  });
  return { acked, statuses, stop: async () => { running = false; await Promise.all(loops); } };
}

async function exactlyOnce(t: Test, s3: TestS3, acked: Set<string>): Promise<{ lost: number; duplicates: number }> {
  const counts = await waitFor('every acknowledged event in S3', async () => {
    const c = await shippedCounts(s3);
    return [...acked].every((id) => c.has(id)) ? c : null;
  }, 60_000, 500).catch(async () => shippedCounts(s3));
  const lost = [...acked].filter((id) => !counts.has(id)).length;
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  t.equal(lost, 0, `acknowledged events lost (of ${acked.size})`);
  t.equal(duplicates, 0, 'events stored twice');
  return { lost, duplicates };
}

t.test('slow syncs: 150 ms before every fdatasync', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await server({}, { ...shipEnv(s3, 2), SLUICE_FAULT_SYNC_DELAY_MS: '150' });
  const l = load(s, 'slow', 16);
  await new Promise((r) => setTimeout(r, 5000));
  await l.stop();
  t.ok(l.acked.size > 100, `${l.acked.size} acknowledged at 150 ms per sync (group commit keeps the rate up)`);
  t.same([...l.statuses.keys()], [200], `every request acknowledged: ${JSON.stringify([...l.statuses])}`);
  const r = await exactlyOnce(t, s3, l.acked);
  recordScenario({ id: 'fault-slow-sync', group: 'fault', title: 'Slow disk: 150 ms added to every WAL sync, 16 clients for 5 s', acknowledged: l.acked.size, ...r, crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid), notes: `statuses ${JSON.stringify(Object.fromEntries(l.statuses))}` }, l.acked.size > 100);
});

t.test('the wall clock steps one hour backwards during traffic', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const clockFile = join(mkdtempSync(join(tmpdir(), 'sluice-clock-')), 'faketime');
  writeFileSync(clockFile, '+0\n');
  const s = await server({ ship: { maxLagMs: '20 seconds' } }, {
    ...shipEnv(s3, 2), LD_PRELOAD: FAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  const l = load(s, 'clock', 8);
  await new Promise((r) => setTimeout(r, 2500));
  writeFileSync(clockFile, '-3600\n');
  const stepAt = l.acked.size;
  await new Promise((r) => setTimeout(r, 4000));
  await l.stop();
  t.ok(l.acked.size > stepAt + 50, `traffic acknowledged after the step (${l.acked.size - stepAt})`);
  const r = await exactlyOnce(t, s3, l.acked);
  // Segments keep rolling on the monotonic clock: the ones after the step land in the hour before.
  const hours = new Set((await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo')).map((o) => o.Key!.split('/').slice(1, 5).join('/')));
  t.ok(hours.size >= 2, `objects in the hours before and after the step: ${[...hours].join(', ')}`);
  const health = await request(s.port, { path: '/health' });
  t.equal(health.status, 200, `healthy after the step (${health.text})`);
  recordScenario({ id: 'fault-clock-step', group: 'fault', title: 'Wall clock stepped 1 hour backwards during traffic (libfaketime)', acknowledged: l.acked.size, ...r, crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid), notes: `objects in hours ${[...hours].join(', ')}; segments roll and lag is measured on the monotonic clock` }, health.status === 200 && hours.size >= 2);
});
