// Small groups synced on the event loop (wal.loopSyncGroup, wal.loopSyncBelowMs), on a real WAL on
// disk: which syncs run on the loop and which on the thread pool, what a failed sync on the loop
// does, and the server's setting and counter. The fs functions are wrapped (and called through)
// to see which one each sync used; their counts start once the WAL is open (opening syncs too).
import t from 'tap';
import fs, { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GroupCommit } from '../src/wal/group-commit';
import type { WalObserver, WalOptions, WriteAheadLog } from '../src/wal/write-ahead-log';
import { request } from './helpers/http';
import { serverPool } from './helpers/server';
import { openWal, put, record, tempDir } from './helpers/wal';

/** Counts the fdatasync calls by kind while installed; `failSync` makes fdatasyncSync throw EIO. */
function spyOnSyncs(t: { teardown(fn: () => void): void }): { sync: number; async: number; failSync: boolean; reset(): void } {
  const calls = { sync: 0, async: 0, failSync: false, reset: () => { calls.sync = 0; calls.async = 0; } };
  const realSync = fs.fdatasyncSync;
  const realAsync = fs.fdatasync;
  fs.fdatasyncSync = (fd: number): void => {
    calls.sync++;
    if (calls.failSync) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    realSync(fd);
  };
  fs.fdatasync = ((fd: number, cb: fs.NoParamCallback) => {
    calls.async++;
    realAsync(fd, cb);
  }) as typeof fs.fdatasync;
  t.teardown(() => {
    fs.fdatasyncSync = realSync;
    fs.fdatasync = realAsync;
  });
  return calls;
}

/** The waiters and placement of every sync that answered waiters. */
function syncLog(): { observer: WalObserver; syncs: Array<{ waiters: number; onLoop: boolean }> } {
  const syncs: Array<{ waiters: number; onLoop: boolean }> = [];
  return { syncs, observer: { appended: () => undefined, synced: (_us, waiters, _records, onLoop) => { if (waiters > 0) syncs.push({ waiters, onLoop }); } } };
}

/** A WAL on a fresh directory with the syncs spied on and logged, counted from once it is open. */
function spiedWal(t: { teardown(fn: () => unknown): void }, over: Partial<WalOptions>): { wal: WriteAheadLog; calls: ReturnType<typeof spyOnSyncs>; syncs: Array<{ waiters: number; onLoop: boolean }> } {
  const calls = spyOnSyncs(t);
  const log = syncLog();
  const wal = openWal(tempDir(), { observer: log.observer, ...over });
  t.teardown(() => wal.close().catch(() => undefined));
  calls.reset();
  return { wal, calls, syncs: log.syncs };
}

t.test('a group of at most loopSyncGroup requests is synced on the loop, a larger one on the pool', async (t) => {
  const { wal, calls, syncs } = spiedWal(t, { loopSync: { group: 3, belowMs: 1000 } });
  t.same(await Promise.all([1, 2, 3].map((i) => put(wal, [record(i)]))), [true, true, true], 'three requests acknowledged');
  t.same(syncs, [{ waiters: 3, onLoop: true }], 'by one sync on the loop');
  const syncCalls = calls.sync;
  t.ok(syncCalls >= 1, 'which called fdatasyncSync');
  t.equal(calls.async, 0, 'and not the pool\'s fdatasync');

  t.same(await Promise.all([4, 5, 6, 7].map((i) => put(wal, [record(i)]))), [true, true, true, true], 'four requests acknowledged');
  t.same(syncs[1], { waiters: 4, onLoop: false }, 'a group of four went to the pool');
  t.ok(calls.async >= 1, 'through fdatasync');
  t.equal(calls.sync, syncCalls, 'with no fdatasyncSync');
});

t.test('after a sync slower than loopSyncBelowMs the next one goes to the pool, then back to the loop', async (t) => {
  let slowMs = 300;
  // Fault injection: a wait before the sync makes it last more than loopSyncBelowMs (100 ms, far
  // above what a sync takes even on a loaded machine, so the fast syncs stay under it).
  const { wal, calls, syncs } = spiedWal(t, { loopSync: { group: 8, belowMs: 100 }, syncDelayMs: () => slowMs });
  t.equal(await put(wal, [record(1)]), true, 'first request acknowledged');
  slowMs = 0;
  t.equal(await put(wal, [record(2)]), true, 'second request acknowledged');
  t.equal(await put(wal, [record(3)]), true, 'third request acknowledged');
  t.same(syncs.map((s) => s.onLoop), [true, false, true], 'the first sync (none before it) on the loop, after its 300 ms the pool, after a fast one the loop again');
  t.ok(calls.async >= 1 && calls.sync >= 2, `both kinds were called (${calls.sync} on the loop, ${calls.async} on the pool)`);
});

t.test('loopSyncGroup 0 keeps every sync on the pool', async (t) => {
  const { wal, calls, syncs } = spiedWal(t, { loopSync: { group: 0, belowMs: 1000 } });
  t.equal(await put(wal, [record(1)]), true, 'a lone request acknowledged');
  t.same(syncs, [{ waiters: 1, onLoop: false }], 'on the pool');
  t.equal(calls.sync, 0, 'no fdatasyncSync');
});

t.test('loopSyncGroup 0 keeps a flush with no waiter (a seal) on the pool too', async (t) => {
  const calls = spyOnSyncs(t);
  const dir = tempDir();
  const fd = openSync(join(dir, 'file'), 'w');
  const dirFd = openSync(dir, 'r');
  t.teardown(() => { closeSync(fd); closeSync(dirFd); });
  const placed: boolean[] = [];
  const commit = new GroupCommit(dirFd, () => undefined, { loopSync: { group: 0, belowMs: 1000 }, onSynced: (_us, _w, _r, onLoop) => placed.push(onLoop) });
  writeSync(fd, 'x');
  commit.touch({ fd });
  await commit.flush();
  t.same(placed, [false], 'the flush\'s sync ran on the pool');
  t.equal(calls.sync, 0, 'no fdatasyncSync');
  t.ok(calls.async >= 1, 'fdatasync on the pool');
});

t.test('a failed sync on the loop fails its group and the WAL refuses records, as on the pool', async (t) => {
  const { wal, calls } = spiedWal(t, { loopSync: { group: 8, belowMs: 1000 } });
  t.equal(await put(wal, [record(1)]), true, 'a request before the fault is acknowledged');
  calls.failSync = true;
  await t.rejects(put(wal, [record(2)]), { code: 'EIO' }, 'the request of the failed sync gets the error');
  t.equal(await put(wal, [record(3)]), false, 'the WAL refuses the next request (the server answers 503)');
  t.match(wal.refusal(), /sync failed/i, 'and says why');
});

t.test('the server syncs every group on the pool by default; with loopSyncGroup it syncs lone requests on the loop and counts them', async (t) => {
  const start = serverPool(t);
  const metric = async (port: number | null): Promise<number> => {
    const m = await request(port!, { path: '/metrics' });
    const line = /^sluice_wal_loop_syncs_total (\d+)$/m.exec(m.text);
    if (line === null) throw new Error('no sluice_wal_loop_syncs_total');
    return Number(line[1]);
  };
  const off = await start({ ship: { enabled: false } });
  for (let i = 0; i < 3; i++) t.equal((await request(off.port, { path: '/i?e=pv' })).status, 200, `by default, pixel ${i + 1} answered 200`);
  t.equal(await metric(off.adminPort), 0, 'and no sync ran on the loop');
  // loopSyncBelowMs at its maximum: on a loaded machine a sync can take over the default 2 ms, and
  // the next would go to the pool; the group size is what this test is about.
  const on = await start({ ship: { enabled: false }, wal: { loopSyncGroup: 8, loopSyncBelowMs: 1000 } });
  for (let i = 0; i < 3; i++) t.equal((await request(on.port, { path: '/i?e=pv' })).status, 200, `with loopSyncGroup 8, pixel ${i + 1} answered 200`);
  t.ok((await metric(on.adminPort)) >= 3, 'sluice_wal_loop_syncs_total counts their syncs');
});
