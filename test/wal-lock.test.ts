// The WAL directory's lock (issue 20, item 1): a second collector on a live WAL directory refuses
// before it reads or changes anything, naming the holder; the first keeps every file and every
// acknowledged event; sluice replay refuses too; the lock goes with the process, even on SIGKILL.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WalLock, WalLockedError } from '../src/wal/wal-lock';
import { LOCK_FILE, PID_FILE } from '../src/wal/wal-files';
import { sluice } from './helpers/cli';
import { recordScenario } from './helpers/reliability';
import { request } from './helpers/http';
import { runServerToExit, startServer, walPayloads } from './helpers/server';
import { FrameKind } from '../src/wal/segment-format';

t.test('WalLock: one holder per directory, released with release()', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-lock-')), 'wal');
  const a = WalLock.acquire(dir, 'collector');
  t.ok(a.held, 'the first process takes the directory (created when absent)');
  const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; role: string };
  t.equal(holder.pid, process.pid, 'the lock file names its holder');
  t.equal(holder.role, 'collector');
  t.throws(() => WalLock.acquire(dir, 'replay'), { code: 'SLUICE_E_WAL_LOCKED' }, 'a second acquire (another open file) is refused');
  try {
    WalLock.acquire(dir, 'replay');
  } catch (e) {
    t.match((e as Error).message, new RegExp(`in use by collector pid ${process.pid}`), 'the refusal names the holder');
    t.equal((e as WalLockedError).code, 'SLUICE_E_WAL_LOCKED');
  }
  a.release();
  t.notOk(a.held);
  const b = WalLock.acquire(dir, 'replay');
  t.ok(b.held, 'free again after release');
  b.release();
});


t.test('a second collector on a live WAL refuses and changes nothing', async (t) => {
  const a = await startServer({ config: { ship: { enabled: false } } });
  t.teardown(() => a.stop());
  for (let i = 0; i < 20; i++) t.equal((await request(a.port, { path: `/i?e=pv&n=${i}` })).status, 200);
  const before = readdirSync(a.walDir).sort();
  const sizes = before.map((n) => statSync(join(a.walDir, n)).size);
  const pid = readFileSync(join(a.walDir, PID_FILE), 'utf8').trim();

  const b = await runServerToExit({ SLUICE_WAL_DIR: a.walDir, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', SLUICE_EMBEDDED_S3_PORT: '0' });
  t.equal(b.code, 1, 'the second collector exits 1');
  const lines = b.stderr.trim().split('\n');
  t.equal(lines.length, 1, 'one line on stderr');
  t.match(lines[0], new RegExp(`^sluice: cannot start: .* is in use by collector pid ${a.proc.pid} `), 'naming the holder');
  t.notMatch(b.stdout, /WAL recovery|segment had no records/, 'no recovery ran');
  t.same(readdirSync(a.walDir).sort(), before, 'every file of the running collector is still there');
  t.same(before.map((n) => statSync(join(a.walDir, n)).size), sizes, 'unchanged');
  t.equal(readFileSync(join(a.walDir, PID_FILE), 'utf8').trim(), pid, 'the pid file still names the running collector');

  // The first collector goes on acknowledging; every acknowledged event is in its WAL.
  for (let i = 20; i < 40; i++) t.equal((await request(a.port, { path: `/i?e=pv&n=${i}` })).status, 200);
  t.equal(a.records().length, 40, 'all 40 acknowledged events are in the WAL');

  const r = await sluice(['replay', a.walDir, '--to-dir', join(a.walDir, '..', 'out')]);
  t.equal(r.status, 1, 'replay refuses');
  t.match(r.stderr, /^sluice: replay: .* is in use by collector pid \d+/, 'naming the collector');
  const kept = a.records().length;
  t.equal(kept, 40, 'replay changed nothing');
  recordScenario({ id: 'crash-second-instance', group: 'crash', title: 'A second collector, then sluice replay, started on a live WAL directory', acknowledged: 40, lost: 40 - kept, crashes: a.proc.exitCode === null ? 0 : 1, notes: 'both refused before reading the directory, naming the holder; every file unchanged' }, b.code === 1 && r.status === 1);
});

t.test('the lock goes with the process: a restart after SIGKILL starts', async (t) => {
  const a = await startServer({ config: { ship: { enabled: false } } });
  t.equal((await request(a.port, { path: '/i?e=pv' })).status, 200);
  await a.stop('SIGKILL');
  const again = await startServer({ config: { ship: { enabled: false } }, env: { SLUICE_WAL_DIR: a.walDir } });
  t.teardown(() => again.stop());
  t.equal((await request(again.port, { path: '/i?e=pv' })).status, 200, 'the next collector takes the directory');
  t.equal(walPayloads(a.walDir, FrameKind.Good).length, 2, 'and keeps what the killed one acknowledged');
});
