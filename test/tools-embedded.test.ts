// The tools beside a running collector on the embedded S3 (issue 20, items 12-14): consolidate and
// replay use the running embedded S3 instead of dying on its port; inspect finds an .lzo's index
// in the embedded S3's directory and says what it checked; start-up failures on a bad WAL
// directory are one line on stderr.
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from './helpers/ports';
import { STATE_FILE } from '../src/wal/wal-files';
import { sluice } from './helpers/cli';
import { request } from './helpers/http';
import { waitFor } from './helpers/wait';
import { runServerToExit, startServer } from './helpers/server';


/** Every file under `dir` whose name ends with `suffix`. */
function findFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (e.endsWith(suffix)) out.push(p);
  }
  return out;
}


t.test('consolidate and inspect beside a collector on the embedded S3', async (t) => {
  // As on an operator's machine: nothing set to quiet the AWS SDK (the tools do it themselves).
  delete process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
  const port = await freePort();
  const s3Dir = mkdtempSync(join(tmpdir(), 'sluice-emb-'));
  const env = { SLUICE_EMBEDDED_S3_PORT: String(port), SLUICE_EMBEDDED_S3_DIR: s3Dir, SLUICE_SHIP_INTERVAL_S: '2' };
  const s = await startServer({ env });
  t.teardown(() => s.stop());
  for (let i = 0; i < 50; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=e${i}` })).status, 200);
  const objects = await waitFor('a shipped .lzo in the embedded S3', async () => {
    const f = findFiles(s3Dir, '.lzo._S3rver_object');
    return f.length > 0 ? f : null;
  }, 30_000);
  const hour = new Date().toISOString().slice(0, 13);
  const c = await sluice(['consolidate', '--hour', hour], env);
  t.equal(c.status, 0, `consolidate ran against the running embedded S3: ${c.stderr.trim()}`);
  t.notMatch(c.stderr, /EADDRINUSE|\n\s+at /, 'no port clash, no stack trace');
  t.notMatch(c.stderr, /NodeVersionSupportWarning/, "the AWS SDK's notice about Node 20 is kept off the operator's terminal");
  t.match(c.stdout, /"records":50/, 'and merged the hour');

  const inspect = await sluice(['inspect', objects[0]!, '--count']);
  t.equal(inspect.status, 0, inspect.stderr);
  const row = JSON.parse(inspect.stdout) as Record<string, unknown>;
  t.ok(typeof row['indexEntries'] === 'number' && row['indexEntries'] > 0, `the index beside it in the embedded layout is found (${String(row['indexEntries'])})`);
  t.match(String(row['checks']), /counted only/, '--count says it only counted');
  t.notOk('verified' in row, 'no "verified": false that reads as a failure');
  const verify = await sluice(['inspect', objects[0]!, '--verify']);
  t.equal(verify.status, 0, verify.stderr);
  t.match(verify.stdout, /"checks":"all checksums/);
});

t.test('a bad WAL directory: one line on stderr naming what is wrong', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-badwal-'));
  const walDir = join(dir, 'wal');
  const first = await startServer({ config: { ship: { enabled: false } }, env: { SLUICE_WAL_DIR: walDir } });
  await first.stop('SIGTERM');
  writeFileSync(join(walDir, STATE_FILE), 'this is not json');
  const garbage = await runServerToExit({ SLUICE_WAL_DIR: walDir, SLUICE_WAL_SEGMENT_BYTES: String(16 * 1024 * 1024) });
  t.equal(garbage.code, 1);
  const lines = garbage.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${garbage.stderr.trim()}`);
  t.match(lines[0], /^sluice: .*wal\.state is not a valid WAL state file/, 'naming wal.state');

  const notADir = join(dir, 'file');
  writeFileSync(notADir, 'x');
  const r = await runServerToExit({ SLUICE_WAL_DIR: join(notADir, 'wal') });
  t.equal(r.code, 1);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr.trim()}`);
  t.match(r.stderr, /^sluice: .*(ENOTDIR|EEXIST)/, 'with the error code');
});
