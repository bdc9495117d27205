// Operator tools on real files made by the collector: replay after SIGKILL ships everything
// exactly once (twice run, or after a partial ship); inspect round-trips what was sent and
// --verify names the byte offset of damage; bad input gets a clear message and no partial output.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './helpers/http';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, lzopTest, parseBlocks } from './helpers/lzo-read';
import { BUCKET, shipEnv, startS3, type TestS3 } from './helpers/s3';
import { startServer } from './helpers/server';
import { sluice } from './helpers/cli';


async function eidsInS3(s3: TestS3): Promise<string[]> {
  const out: string[] = [];
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    const file = await s3.get(o.Key!);
    lzopTest(file);
    out.push(...parseBlocks(lzopDecompress(file)).records.map((r) => new URLSearchParams(decodeRecord(r).querystring!).get('eid')!));
  }
  return out;
}

/** A crashed collector's WAL: events acknowledged, then SIGKILL before anything shipped. */
async function crashedWal(n: number, env: Record<string, string> = {}): Promise<{ walDir: string; acked: string[] }> {
  const s = await startServer({ config: { ship: { enabled: false } }, env });
  const acked: string[] = [];
  for (let i = 0; i < n; i++) if ((await request(s.port, { path: `/i?e=pv&eid=r${i}&url=https%3A%2F%2Facme.com%2F${i}` })).status === 200) acked.push(`r${i}`);
  await s.stop('SIGKILL');
  return { walDir: s.walDir, acked };
}

t.test('replay after SIGKILL ships everything exactly once, twice run', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const { walDir, acked } = await crashedWal(300);
  const env = { ...shipEnv(s3), SLUICE_S3_BUCKET: BUCKET };
  // The bucket exists (replay never creates one).
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const dry = await sluice(['replay', walDir, '--dry-run'], env);
  t.equal(dry.status, 0, dry.stderr);
  t.match(dry.stdout, /"action":"ship","state":"open","records":300/, 'dry run reports the open segment');
  t.same(await eidsInS3(s3), [], 'dry run shipped nothing');
  const first = await sluice(['replay', walDir], env);
  t.equal(first.status, 0, first.stderr);
  // The open segment is dated by its events, and the dry run named the key the real run used.
  const dryKey = /"key":"([^"]+)"/.exec(dry.stdout)![1]!;
  const keys = (await s3.list('raw/')).map((o) => o.Key!).filter((k) => k.endsWith('.lzo'));
  t.same(keys, [dryKey], `the dry run's key is the shipped key (${dryKey})`);
  const hour = new Date().toISOString().slice(0, 13).replace(/[-T]/g, '/');
  const hourBefore = new Date(Date.now() - 3_600_000).toISOString().slice(0, 13).replace(/[-T]/g, '/');
  t.ok(dryKey.startsWith(`raw/${hour}/`) || dryKey.startsWith(`raw/${hourBefore}/`), `in the events' hour, not 1970 (${dryKey})`);
  const eids = await eidsInS3(s3);
  t.equal(eids.length, acked.length, 'every acknowledged event shipped');
  t.same(new Set(eids), new Set(acked));
  t.equal(readdirSync(walDir).filter((n) => n.endsWith('.seg')).length, 0, 'shipped segments removed');
  const second = await sluice(['replay', walDir], env);
  t.equal(second.status, 0);
  t.equal((await eidsInS3(s3)).length, acked.length, 'a second run adds nothing');
});

t.test('replay after the instance shipped part of its WAL: no duplicates', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  // Ships, then dies between the confirmed upload and the release: the segment is both in S3 and in the WAL.
  const s = await startServer({ config: { ship: { retryBaseDelayMs: '50 ms' } }, env: { ...shipEnv(s3, 2), SLUICE_FAULT_KILL_AFTER_SHIP: '1' } });
  const acked: string[] = [];
  for (let i = 0; i < 80; i++) if ((await request(s.port, { path: `/i?e=pv&eid=q${i}` })).status === 200) acked.push(`q${i}`);
  await s.exited;
  const r = await sluice(['replay', s.walDir], shipEnv(s3));
  t.equal(r.status, 0, r.stderr);
  const eids = await eidsInS3(s3);
  t.same(eids.sort(), [...acked].sort(), 'exactly once');
});

t.test('replay --to-dir, and bad input', async (t) => {
  const { walDir, acked } = await crashedWal(50);
  const out = join(mkdtempSync(join(tmpdir(), 'sluice-todir-')), 'files');
  const r = await sluice(['replay', walDir, '--to-dir', out]);
  t.equal(r.status, 0, r.stderr);
  const lzo = readdirSync(out, { recursive: true }).map(String).filter((f) => f.endsWith('.lzo'));
  t.equal(lzo.length, 1, 'one .lzo under its key');
  const file = readFileSync(join(out, lzo[0]!));
  t.equal(parseBlocks(lzopDecompress(file)).records.length, acked.length);
  t.ok(existsSync(join(out, `${lzo[0]!}.index`)), 'with its index');

  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const crashed = await crashedWal(5);
  const missing = await sluice(['replay', crashed.walDir], { ...shipEnv(s3), SLUICE_S3_BUCKET: 'no-such-bucket' });
  t.equal(missing.status, 1);
  t.match(missing.stderr, /^sluice: replay: bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+/);
  t.ok(readdirSync(crashed.walDir).some((n) => n.endsWith('.seg')), 'the WAL is untouched');
  const http = await import('node:http');
  const deny = http.createServer((req, res) => { req.resume(); res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'); });
  await new Promise<void>((r) => deny.listen(0, '127.0.0.1', r));
  t.teardown(() => deny.close());
  const denied = await sluice(['replay', crashed.walDir], shipEnv({ endpoint: `http://127.0.0.1:${(deny.address() as { port: number }).port}` }));
  t.equal(denied.status, 1);
  t.match(denied.stderr, /^sluice: replay: no permission on bucket sluice-test at http:\/\/127\.0\.0\.1:\d+ \(403\)/, 'no permission: a clear message');
  t.ok(readdirSync(crashed.walDir).some((n) => n.endsWith('.seg')), 'the WAL is untouched');
  t.match((await sluice(['replay', '/nonexistent/dir'])).stderr, /is not a directory/);
  t.match((await sluice(['replay', mkdtempSync(join(tmpdir(), 'empty-'))])).stderr, /holds no WAL/);
  t.equal((await sluice(['replay'])).status, 2, 'missing argument exits 2');
  t.match((await sluice(['replay', '--help'])).stdout, /Usage: sluice replay <wal-dir>/);
  const live = await startServer({ config: { ship: { enabled: false } } });
  t.teardown(() => live.stop());
  t.match((await sluice(['replay', live.walDir])).stderr, /is in use by collector pid \d+/, 'refuses to ship under a running collector');
});

t.test('inspect round-trips what was sent; --verify names the offset of damage', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  // Interval 6 s: the segment rolls at about 5 s, after all of this traffic, so one .lzo holds it all.
  const s = await startServer({ env: shipEnv(s3, 6), config: { wal: { maxRecordBytes: 2000 } } });
  t.teardown(() => s.stop());
  for (let i = 0; i < 250; i++) await request(s.port, { path: `/i?e=pv&eid=i${i}`, headers: [['User-Agent', `UA ${i} (X11)`], ['Referer', 'https://ref.example/']] });
  // And what a real tracker sends.
  const { newTracker, buildStructEvent } = await import('@snowplow/node-tracker');
  const tracker = newTracker({ namespace: 'insp', appId: 'inspect-app', encodeBase64: false }, { endpoint: `127.0.0.1:${s.port}`, protocol: 'http', eventMethod: 'post', bufferSize: 1 });
  tracker.track(buildStructEvent({ category: 'tools', action: 'inspect-me', label: 'zoë' }));
  await tracker.flush();
  await request(s.port, { path: `/i?e=pv&eid=big&pad=${'z'.repeat(3000)}` });
  const segs = readdirSync(s.walDir).filter((n) => n.endsWith('.seg'));
  const seg = await sluice(['inspect', join(s.walDir, segs[segs.length - 1]!)]);
  t.equal(seg.status, 0, seg.stderr);

  const { waitFor } = await import('./helpers/s3');
  const key = await waitFor('the .lzo', async () => (await s3.list('raw/')).find((o) => o.Key!.endsWith('.lzo'))?.Key ?? null);
  await waitFor('its index', async () => ((await s3.list('raw/')).some((o) => o.Key === `${key}.index`) ? true : null));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-inspect-'));
  const lzoPath = join(dir, 'x.lzo');
  const file = await s3.get(key);
  writeFileSync(lzoPath, file);
  writeFileSync(`${lzoPath}.index`, await s3.get(`${key}.index`));
  const r = await sluice(['inspect', lzoPath]);
  t.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const row = rows.find((x) => String(x['querystring']).includes('eid=i7&'))
    ?? rows.find((x) => String(x['querystring']).endsWith('eid=i7'));
  t.ok(row !== undefined, 'the event is there');
  t.equal(row!['userAgent'], 'UA 7 (X11)');
  t.equal(row!['refererUri'], 'https://ref.example/');
  t.equal(row!['path'], '/i');
  t.equal(row!['schema'], 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0');
  t.ok(Array.isArray(row!['headers']), 'headers decoded');
  const tp2 = rows.find((x) => x['path'] === '/com.snowplowanalytics.snowplow/tp2');
  t.ok(tp2 !== undefined, 'the tracker\'s POST is there');
  const ev = (JSON.parse(String(tp2!['body'])) as { data: Array<Record<string, string>> }).data[0]!;
  t.same([ev['e'], ev['se_ca'], ev['se_ac'], ev['se_la'], ev['aid']], ['se', 'tools', 'inspect-me', 'zoë', 'inspect-app'], 'inspect shows exactly what the tracker sent');
  t.match(String(tp2!['contentType']), /^application\/json/);
  const count = await sluice(['inspect', lzoPath, '--count']);
  t.match(count.stdout, /"records":2\d\d/);
  const verify = await sluice(['inspect', lzoPath, '--verify']);
  t.equal(verify.status, 0, verify.stderr);
  t.match(verify.stdout, /"checks":"all checksums, frames, blocks, index entries and records passed"/);

  const damage = async (name: string, bytes: Buffer, index?: Buffer): Promise<{ status: number | null; stderr: string }> => {
    const p = join(dir, `${name}.lzo`);
    writeFileSync(p, bytes);
    if (index !== undefined) writeFileSync(`${p}.index`, index);
    return await sluice(['inspect', p, '--verify']);
  };
  const truncated = await damage('truncated', file.subarray(0, file.length - 100));
  t.equal(truncated.status, 1);
  t.match(truncated.stderr, /truncated.*byte offset \d+/, `truncated file: ${truncated.stderr.trim()}`);
  const magic = Buffer.from(file);
  magic[1] = 0;
  t.match((await damage('magic', magic)).stderr, /(wrong|unknown) magic.*byte offset 0/, 'wrong magic, with its byte offset');
  const flipped = Buffer.from(file);
  flipped[200] = flipped[200]! ^ 0xff;
  const flip = await damage('flipped', flipped);
  t.equal(flip.status, 1);
  t.match(flip.stderr, /byte offset 38/, `a flipped byte is caught in the block at 38: ${flip.stderr.trim()}`);
  const idx = Buffer.alloc(8);
  idx.writeBigInt64BE(40n);
  const mid = await damage('midblock', file, idx);
  t.equal(mid.status, 1);
  t.match(mid.stderr, /entry 0 is 40, not the start of an LZO block \(expected byte offset 38\)/, 'index pointing mid-block');
  t.match((await sluice(['inspect', join(dir, 'nope.lzo')])).stderr, /no such file/);
  writeFileSync(join(dir, 'junk.bin'), 'hello');
  t.match((await sluice(['inspect', join(dir, 'junk.bin')])).stderr, /not a WAL segment, lzop or gzip file/);
});
