// The documentation is checked, not trusted: docs/configuration.md is what the schema generates,
// the systemd unit passes `systemd-analyze verify`, the IAM policies cover the S3 calls the code
// makes, and every block fenced `sh runnable` in docs/*.md runs against a real collector and S3.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTHER_ENVIRONMENT, renderConfigDoc } from '../src/config/config-doc';
import { SCHEMA, type Node } from '../src/config/schema';
import { request } from './helpers/http';
import { S3_ENV, shipEnv, startS3, waitFor, BUCKET, type TestS3 } from './helpers/s3';
import { ROOT, startServer, type RunningServer } from './helpers/server';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (code) => resolve({ code, out }));
    // A command that reads no input may exit before its stdin is written.
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
  });
}

t.test('docs/configuration.md is generated from the schema', async (t) => {
  const committed = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  t.equal(committed, renderConfigDoc(), 'docs/configuration.md is current (regenerate: npm run build && node scripts/gen-config-doc.js)');
  const keys: string[] = [];
  const walk = (prefix: string, n: Node): void => {
    if (n.kind === 'section') for (const [k, c] of Object.entries(n.fields)) walk(prefix === '' ? k : `${prefix}.${k}`, c);
    else keys.push(prefix);
  };
  walk('', SCHEMA);
  for (const k of keys) if (!committed.includes(`| \`${k}\` |`)) t.fail(`${k} missing from the doc`);
  t.ok(keys.length > 90, `${keys.length} settings documented`);
  // Every SLUICE_ variable the code reads is documented.
  const src = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? src(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const read = new Set<string>();
  for (const f of src(join(ROOT, 'src'))) for (const m of readFileSync(f, 'utf8').matchAll(/(SLUICE_(?!E_)[A-Z0-9_]+)/g)) read.add(m[1]!);
  for (const v of read) t.ok(committed.includes(`\`${v}\``), `${v} is in docs/configuration.md`);
  t.ok(OTHER_ENVIRONMENT.length > 0);
});

t.test('the systemd unit passes systemd-analyze verify, and its stop timeout covers the drain', async (t) => {
  const unit = join(ROOT, 'deploy', 'sluice.service');
  const ok = await run('systemd-analyze', ['verify', unit]);
  t.equal(ok.code, 0, 'exit 0');
  t.equal(ok.out.trim(), '', `no warnings: ${ok.out}`);
  // The check can fail: an unknown key is reported.
  const broken = join(mkdtempSync(join(tmpdir(), 'sluice-unit-')), 'sluice.service');
  writeFileSync(broken, readFileSync(unit, 'utf8').replace('TimeoutStopSec=', 'TimeoutStopSecs='));
  t.match((await run('systemd-analyze', ['verify', broken])).out, /Unknown key/, 'a broken unit is reported');
  const text = readFileSync(unit, 'utf8');
  const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)![1]) * 1000;
  // The defaults, typed by the schema itself.
  const c = SCHEMA.fields.collector.fields;
  const drain = c.preTerminationPeriod.default + c.networking.fields.responseHeaderTimeout.default + SCHEMA.fields.ship.fields.drainTimeoutMs.default;
  t.ok(stop > drain, `TimeoutStopSec ${stop} ms > pre-termination + response timeout + ship drain ${drain} ms`);
  t.match(text, /^RequiresMountsFor=\/var\/lib\/sluice\/wal$/m, 'the WAL mount is a dependency');
});

t.test('the IAM policies allow every S3 call the code makes, and no more', async (t) => {
  const action: Record<string, string> = {
    HeadBucketCommand: 's3:ListBucket', ListObjectsCommand: 's3:ListBucket', PutObjectCommand: 's3:PutObject', HeadObjectCommand: 's3:GetObject',
    GetObjectCommand: 's3:GetObject', DeleteObjectsCommand: 's3:DeleteObject', Upload: 's3:AbortMultipartUpload', CreateBucketCommand: 's3:CreateBucket',
  };
  const used = (files: string[]): Set<string> => {
    const out = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(ROOT, 'src', f), 'utf8');
      for (const m of text.matchAll(/new (\w+Command|Upload)\(/g)) out.add(action[m[1]!] ?? `unknown ${m[1]}`);
    }
    if (out.has('s3:PutObject')) out.add('s3:AbortMultipartUpload');
    out.delete('s3:CreateBucket'); // only with s3.createBucket = true, which deploy.md turns off
    return out;
  };
  const allowed = (file: string): Set<string> => {
    const p = JSON.parse(readFileSync(join(ROOT, 'deploy', 'iam', file), 'utf8')) as { Statement: Array<{ Action: string[] }> };
    return new Set(p.Statement.flatMap((s) => s.Action));
  };
  const shipping = used(['ship/s3-target.ts', 'ship/shipper.ts', 'ship/ship-segment.ts', 'tools/replay.ts', 'tools/s3-session.ts']);
  t.same([...allowed('shipper-policy.json')].sort(), [...shipping].sort(), 'shipper');
  t.same([...allowed('replay-policy.json')].sort(), [...shipping].sort(), 'replay ships with the shipper\'s code');
  const consolidating = used(['ship/s3-target.ts', 'tools/consolidate.ts', 'tools/s3-session.ts']);
  t.same([...allowed('consolidate-policy.json')].sort(), [...consolidating].sort(), 'consolidate');
});

interface Block { doc: string; line: number; code: string }

function runnableBlocks(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, 'docs', doc), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh runnable') continue;
    const start = i + 1;
    let j = start;
    while (lines[j]!.trim() !== '```') j++;
    out.push({ doc, line: start + 1, code: lines.slice(start, j).join('\n') });
    i = j;
  }
  return out;
}

/** Runs a document's runnable blocks in order, each in its own bash (variables do not carry over), against `s`. */
async function runDoc(t: Test, doc: string, s: RunningServer, env: Record<string, string>): Promise<void> {
  const blocks = runnableBlocks(doc);
  t.ok(blocks.length > 0, `${doc} has runnable blocks`);
  const bin = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  writeFileSync(join(bin, 'sluice'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'dist', 'cli.js')}" "$@"\n`);
  chmodSync(join(bin, 'sluice'), 0o755);
  const fullEnv = { ...process.env, ...env, PATH: `${bin}:${process.env['PATH']}`, SLUICE_LOG_LEVEL: 'warn' };
  for (const b of blocks) {
    const code = b.code.replace(/localhost:8080/g, `127.0.0.1:${s.port}`).replace(/localhost:9090/g, `127.0.0.1:${s.adminPort}`);
    const r = await run('bash', ['-euo', 'pipefail', '-c', code], { env: fullEnv });
    t.equal(r.code, 0, `${doc}:${b.line} runs\n${r.out.slice(-3000)}`);
    env['_LAST_OUTPUT'] = r.out;
  }
}

async function shippedHour(s3: { list(p: string): Promise<Array<{ Key?: string }>> }): Promise<string> {
  const keys = await waitFor('a shipped .lzo', async () => {
    const k = (await s3.list('raw/')).map((o) => o.Key!).filter((k) => k.endsWith('.lzo'));
    return k.length > 0 ? k : null;
  });
  const m = /^raw\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(keys[0]!)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}`;
}

/** A collector shipping every second to its own s3rver, with 20 pixels acknowledged. */
async function shippingCollector(t: Test, tag: string): Promise<{ s3: TestS3; env: Record<string, string>; s: RunningServer }> {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const env = shipEnv(s3, 1);
  const s = await startServer({ env });
  t.teardown(() => s.stop());
  for (let i = 0; i < 20; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=${tag}${i}` })).status, 200);
  return { s3, env, s };
}

t.test('docs/deploy.md: every runnable block', async (t) => {
  const { env, s } = await shippingCollector(t, 'd');
  await runDoc(t, 'deploy.md', s, { ...env, SLUICE_WAL_DIR: s.walDir, SLUICE_PID: String(s.proc.pid) });
  t.equal(await s.exited, 0, 'the drain script stopped the collector gracefully');
  t.same(readdirSync(s.walDir).filter((n) => n.endsWith('.seg')), [], 'the WAL is empty after the drain');
});

t.test('docs/recovery.md: every runnable block, on a killed collector\'s WAL', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  // The dead instance: it acknowledged events and never shipped them.
  const dead = await startServer({ config: { ship: { enabled: false } } });
  const acked: string[] = [];
  for (let i = 0; i < 60; i++) if ((await request(dead.port, { path: `/i?e=pv&eid=r${i}` })).status === 200) acked.push(`r${i}`);
  await dead.stop('SIGKILL');
  const deadWal = join(mkdtempSync(join(tmpdir(), 'sluice-dead-')), 'wal');
  cpSync(dead.walDir, deadWal, { recursive: true });
  // The bucket exists, as in production (replay never creates one).
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await runDoc(t, 'recovery.md', dead, { ...S3_ENV, SLUICE_S3_ENDPOINT: s3.endpoint, SLUICE_S3_BUCKET: BUCKET, DEAD_WAL: deadWal });
  t.same(readdirSync(deadWal).filter((n) => n.endsWith('.seg')), [], 'replay emptied the dead WAL');
  const objs = (await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo'));
  t.ok(objs.length >= 1, `${objs.length} object(s) shipped`);
  const { lzopDecompress, parseBlocks } = await import('./helpers/lzo-read');
  const { decodeRecord } = await import('./helpers/records');
  const eids = (await Promise.all(objs.map(async (o) => parseBlocks(lzopDecompress(await s3.get(o.Key!))).records))).flat()
    .map((r) => new URLSearchParams(decodeRecord(r).querystring!).get('eid'));
  t.same(eids.sort(), acked.sort(), 'every acknowledged event is in S3 exactly once');
});

t.test('docs/migration.md: every runnable block', async (t) => {
  const { s3, env, s } = await shippingCollector(t, 'm');
  const hour = await shippedHour(s3);
  await runDoc(t, 'migration.md', s, { ...env, HOUR: hour });
  const consolidated = (await s3.list('raw/')).filter((o) => /consolidated-\d{10}\.lzo$/.test(o.Key!));
  t.equal(consolidated.length, 1, 'the consolidate block wrote the hour\'s file');
});

t.test('docs/walkthrough.md: every runnable block, on the embedded S3', async (t) => {
  const s = await startServer({ env: { SLUICE_SHIP_INTERVAL_S: '1' } });
  t.teardown(() => s.stop());
  const env: Record<string, string> = { SLUICE_EMBEDDED_S3_DIR: join(s.walDir, '..', 's3') };
  await runDoc(t, 'walkthrough.md', s, env);
  const out = env['_LAST_OUTPUT']!;
  t.match(out, /lzop: OK/, 'lzop reads the shipped file');
  t.match(out, /"path":"\/i"/, 'the pixel is in it');
});
