// The commit delay (wal.commitDelayMs, wal.commitGroup) on a real WAL on disk: a lone request
// waits the delay before its sync, a group of commitGroup requests syncs at once and shares one
// sync, and closing the WAL does not wait for the delay.
import t from 'tap';
import { performance } from 'node:perf_hooks';
import type { WalObserver } from '../src/wal/write-ahead-log';
import { request } from './helpers/http';
import { serverPool } from './helpers/server';
import { openWal, put, record, tempDir } from './helpers/wal';

/** Counts syncs and the waiters each one answered. */
function syncLog(): { observer: WalObserver; groups: number[] } {
  const groups: number[] = [];
  return { groups, observer: { appended: () => undefined, synced: (_us, waiters) => { if (waiters > 0) groups.push(waiters); } } };
}

/** A put with its settling time, readable before it settles. */
function timedPut(wal: ReturnType<typeof openWal>, i: number): { done: Promise<boolean>; settledAt: () => number | null } {
  let at: number | null = null;
  const done = put(wal, [record(i)]).then((ok) => { at = performance.now(); return ok; });
  return { done, settledAt: () => at };
}

const DELAY_MS = 1000;

t.test('a lone request waits the commit delay before its sync', async (t) => {
  const log = syncLog();
  const wal = openWal(tempDir(), { commitPacing: { delayMs: DELAY_MS, group: 4 }, observer: log.observer });
  t.teardown(() => wal.close());
  const from = performance.now();
  const p = timedPut(wal, 1);
  await new Promise((r) => setTimeout(r, DELAY_MS / 4));
  t.equal(p.settledAt(), null, 'not acknowledged a quarter of the delay later');
  t.equal(await p.done, true, 'acknowledged');
  const waited = p.settledAt()! - from;
  t.ok(waited >= DELAY_MS - 5, `acknowledged after the delay (${waited.toFixed(0)} ms)`);
  t.same(log.groups, [1], 'one sync for it');
});

t.test('commitGroup requests start their sync at once, and share it', async (t) => {
  const log = syncLog();
  const wal = openWal(tempDir(), { commitPacing: { delayMs: DELAY_MS, group: 4 }, observer: log.observer });
  t.teardown(() => wal.close());
  const from = performance.now();
  const first = [1, 2, 3].map((i) => timedPut(wal, i));
  await new Promise((r) => setTimeout(r, DELAY_MS / 4));
  t.ok(first.every((p) => p.settledAt() === null), 'three of four: still waiting a quarter of the delay later');
  const fourth = timedPut(wal, 4);
  t.same(await Promise.all([...first, fourth].map((p) => p.done)), [true, true, true, true], 'all acknowledged');
  const last = Math.max(...[...first, fourth].map((p) => p.settledAt()!)) - from;
  t.ok(last < DELAY_MS * 0.75, `the fourth request started the sync: all acknowledged ${last.toFixed(0)} ms after the first, before the delay ran out`);
  t.same(log.groups, [4], 'one sync answered all four');
});

t.test('closing the WAL syncs a waiting group without the delay', async (t) => {
  const wal = openWal(tempDir(), { commitPacing: { delayMs: 60_000, group: 100 } });
  const p = timedPut(wal, 1);
  const from = performance.now();
  await wal.close();
  t.equal(await p.done, true, 'the waiting request is acknowledged');
  t.ok(p.settledAt()! - from < 30_000, 'by the close, not by the 60 s delay');
});

t.test('a commit delay of 0 syncs a lone request at once', async (t) => {
  const log = syncLog();
  const wal = openWal(tempDir(), { commitPacing: { delayMs: 0, group: 1000 }, observer: log.observer });
  t.teardown(() => wal.close());
  const from = performance.now();
  t.equal(await put(wal, [record(1)]), true, 'acknowledged');
  t.ok(performance.now() - from < DELAY_MS, 'without waiting for company');
  t.same(log.groups, [1], 'in a sync of its own');
});

t.test('a group gathered during a sync counts its delay from its first request, not from the sync\'s end', async (t) => {
  // Each sync is held 600 ms (fault injection); the delay is 400 ms.
  const wal = openWal(tempDir(), { commitPacing: { delayMs: 400, group: 100 }, syncDelayMs: () => 600 });
  t.teardown(() => wal.close());
  const from = performance.now();
  const a = timedPut(wal, 1); // its sync starts at 400 ms and ends at about 1,000 ms
  await new Promise((r) => setTimeout(r, 500));
  const b = timedPut(wal, 2); // waits from 500 ms: its delay is over when a's sync ends
  await new Promise((r) => setTimeout(r, 400));
  const c = timedPut(wal, 3);
  t.same(await Promise.all([a.done, b.done, c.done]), [true, true, true], 'all acknowledged');
  const at = (p: ReturnType<typeof timedPut>): number => p.settledAt()! - from;
  t.ok(at(a) >= 990, `the first after its delay and its sync (${at(a).toFixed(0)} ms)`);
  // The next sync starts as the first one ends: about 1,600 ms. Counted from the later request
  // (900 ms) it would start at 1,300 and end near 1,900; counted from the sync's end, near 2,000.
  t.ok(at(b) < 1800 && at(c) < 1800, `the next two in the next sync, started as the first ended (${at(b).toFixed(0)}, ${at(c).toFixed(0)} ms)`);
});

t.test('a small group gathered during a short sync still waits out its delay', async (t) => {
  // Each sync is held 200 ms (fault injection); the delay is 600 ms.
  const wal = openWal(tempDir(), { commitPacing: { delayMs: 600, group: 100 }, syncDelayMs: () => 200 });
  t.teardown(() => wal.close());
  const from = performance.now();
  const a = timedPut(wal, 1); // its sync runs from 600 to about 800 ms
  await new Promise((r) => setTimeout(r, 700));
  const bFrom = performance.now();
  const b = timedPut(wal, 2); // gathers during a's sync; its own delay ends near 1,300 ms
  t.same(await Promise.all([a.done, b.done]), [true, true], 'both acknowledged');
  t.ok(a.settledAt()! - from >= 795, `the first after its delay and its held sync (${(a.settledAt()! - from).toFixed(0)} ms)`);
  const waited = b.settledAt()! - bFrom;
  t.ok(waited >= 600 - 5, `the second waited its delay, not just for the sync it arrived during (${waited.toFixed(0)} ms)`);
});

t.test('wal.commitDelayMs and wal.commitGroup reach the server\'s WAL', async (t) => {
  const server = serverPool(t);
  const s = await server({ ship: { enabled: false }, wal: { commitDelayMs: 800, commitGroup: 3 } });
  const lone = performance.now();
  t.equal((await request(s.port, { method: 'GET', path: '/i?e=pv&n=1' })).status, 200, 'a lone pixel is answered');
  const loneMs = performance.now() - lone;
  t.ok(loneMs >= 795, `after the 800 ms commit delay (${loneMs.toFixed(0)} ms)`);
  const group = performance.now();
  const replies = await Promise.all([1, 2, 3].map((n) => request(s.port, { method: 'GET', path: `/i?e=pv&n=${n}` })));
  const groupMs = performance.now() - group;
  t.same(replies.map((r) => r.status), [200, 200, 200], 'three pixels at once are answered');
  t.ok(groupMs < 600, `without the delay: three make a commit group (${groupMs.toFixed(0)} ms)`);
});
