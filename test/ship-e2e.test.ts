// End to end: tracker events -> WAL -> s3rver. Every .lzo passes Debian's lzop -t; an independent
// decoder (lzop -dc, an elephant-bird parser written here, the thrift package) reads back exactly
// the events sent; every index offset starts an LZO block and reading from any of them yields
// only whole records.
import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { buildPageView, buildSelfDescribingEvent, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { request } from './helpers/http';
import { eidsOf } from './helpers/records';
import { lzopDecompress, lzopTest, nextMarker, parseBlocks, readIndex, readLzopBlocks } from './helpers/lzo-read';
import { shipEnv, startS3, waitFor } from './helpers/s3';
import { serverPool, walPayloads } from './helpers/server';
import { FrameKind } from '../src/wal/segment-format';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const server = serverPool(t);

t.test('tracker events reach S3 as valid, splittable LZO', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const archive = join(mkdtempSync(join(tmpdir(), 'sluice-archive-')), 'archive');
  const s = await server({ wal: { maxRecordBytes: 4000 }, ship: { archiveDir: archive } }, shipEnv(s3));
  // Real tracker traffic, GET and POST.
  const sent = new Set<string>();
  for (const method of ['get', 'post'] as const) {
    const tracker = newTracker({ namespace: 'ns', appId: 'ship', encodeBase64: false }, { endpoint: `127.0.0.1:${s.port}`, protocol: 'http', eventMethod: method, bufferSize: method === 'post' ? 5 : 1 });
    for (let i = 0; i < 60; i++) {
      tracker.track(buildPageView({ pageUrl: `https://acme.com/p${i}` }), [{ schema: 'iglu:com.acme/c/jsonschema/1-0-0', data: { i } }]);
      tracker.track(buildStructEvent({ category: 'c', action: `a${i}` }));
      tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/e/jsonschema/1-0-0', data: { i, text: 'é'.repeat(i) } } }));
    }
    await tracker.flush();
  }
  // Plus enough pixels for several elephant-bird blocks and LZO blocks, and a few bad rows.
  const big = 'x'.repeat(2500);
  for (let i = 0; i < 400; i++) {
    const eid = `px-${i}`;
    const r = await request(s.port, { path: `/i?e=pv&eid=${eid}&pad=${big}` });
    if (r.status === 200) sent.add(eid);
  }
  for (let i = 0; i < 3; i++) await request(s.port, { path: `/i?e=pv&eid=bad-${i}&pad=${'y'.repeat(5000)}` });
  // Shipped segments move to the archive (ship.archiveDir), so the WAL's whole history is readable.
  const walEids = [...walPayloads(s.walDir, FrameKind.Good), ...walPayloads(archive, FrameKind.Good)].flatMap(eidsOf);
  for (const e of walEids) sent.add(e);
  t.equal(walEids.length, 2 * 60 * 3 + 400, 'every tracker event and pixel is in the WAL');

  const objects = await waitFor('all events in S3', async () => {
    const objs = (await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo'));
    let n = 0;
    for (const o of objs) n += parseBlocks(lzopDecompress(await s3.get(o.Key!))).records.flatMap(eidsOf).length;
    return n >= sent.size ? objs : null;
  }, 30_000, 500);
  const shipped: string[] = [];
  let blocksChecked = 0;
  for (const o of objects) {
    const key = o.Key!;
    t.match(key, /^raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[0-9a-f-]{36}-\d{20}\.lzo$/, `key layout ${key}`);
    const file = await s3.get(key);
    t.doesNotThrow(() => lzopTest(file), `${key}: lzop -t passes`);
    const stream = lzopDecompress(file);
    const { records, blocks } = parseBlocks(stream);
    t.ok(blocks.every((n) => n > 0 && n <= 100), `${key}: ${blocks.length} elephant-bird blocks of at most 100 records`);
    shipped.push(...records.flatMap(eidsOf));
    // The index: exactly the LZO block offsets; from each, whole records to the end.
    const index = readIndex(await s3.get(`${key}.index`));
    const walk = await readLzopBlocks(file);
    t.same(index, walk.offsets, `${key}: every index entry is an LZO block start (${index.length} blocks)`);
    t.ok(walk.data.equals(stream), 'lzo-wasm and lzop decompress alike');
    for (const off of index) {
      const tail = (await readLzopBlocks(file, off)).data;
      const first = nextMarker(tail);
      if (first < 0) continue; // the block holds the end of a record block only
      const suffix = parseBlocks(tail, first).records;
      const whole = records.slice(records.length - suffix.length);
      if (!suffix.every((r, i) => r.equals(whole[i]!))) t.fail(`${key}: reading from index offset ${off} gives records that are not a suffix`);
      blocksChecked++;
    }
  }
  t.ok(blocksChecked > 0, `read from ${blocksChecked} index offsets`);
  t.equal(shipped.length, sent.size, 'every event shipped once');
  t.same(new Set(shipped), sent, 'exactly the events sent');

  // The bad rows were sent last, so their segment may ship after the good events are all in S3.
  const rows = await waitFor('bad rows in S3', async () => {
    const bad = (await s3.list('bad/')).filter((o) => o.Key!.endsWith('.json.gz'));
    const r = (await Promise.all(bad.map(async (o) => gunzipSync(await s3.get(o.Key!)).toString().trim().split('\n')))).flat();
    return r.length >= 3 ? r : null;
  }, 30_000, 500);
  t.equal(rows.length, 3, 'bad rows under their own prefix');
  t.match(JSON.parse(rows[0]!).schema, /size_violation/);
  await waitFor('WAL emptied', async () => (s.output().match(/segment shipped/g)?.length ?? 0) >= objects.length ? true : null);
});

t.test('gzip format: one base64 record per line', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await server({ ship: { format: 'gzip' } }, shipEnv(s3));
  for (let i = 0; i < 20; i++) await request(s.port, { path: `/i?e=pv&eid=g${i}` });
  const objs = await waitFor('gzip object', async () => { const l = (await s3.list('raw/')).filter((o) => o.Key!.endsWith('.gz')); return l.length > 0 ? l : null; });
  const gz = await s3.get(objs[0]!.Key!);
  const lines = gunzipSync(gz).toString().trim().split('\n');
  t.same(lines.flatMap((l) => eidsOf(Buffer.from(l, 'base64'))).sort(), Array.from({ length: 20 }, (_, i) => `g${i}`).sort());
  // sluice inspect reads the gzip format too.
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-gz-')), 'x.gz');
  writeFileSync(path, gz);
  const { sluice } = await import('./helpers/cli');
  const r = await sluice(['inspect', path]);
  t.equal(r.status, 0, r.stderr);
  const qs = r.stdout.trim().split('\n').map((l) => new URLSearchParams((JSON.parse(l) as { querystring: string }).querystring).get('eid'));
  t.same(qs.sort(), Array.from({ length: 20 }, (_, i) => `g${i}`).sort(), 'inspect decodes every gzip record');
});

t.test('the embedded S3 port already taken: a clear error, exit 1', async (t) => {
  const blocker = await startS3();
  t.teardown(() => blocker.stop());
  const { startServer } = await import('./helpers/server');
  const s = await startServer({ env: { SLUICE_EMBEDDED_S3_PORT: String(blocker.port) }, waitShipper: false });
  const code = await s.exited;
  t.equal(code, 1, 'exits 1');
  t.match(s.output(), new RegExp(`embedded S3 on port ${blocker.port}.*set SLUICE_EMBEDDED_S3_PORT or SLUICE_S3_ENDPOINT`), 'names the port and the fix');
});

t.test('multipart uploads, SSE-KMS and storage class reach S3', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const seen = { kms: 0, keyId: 0, storage: 0, parts: 0 };
  const http = await import('node:http');
  const proxy = http.createServer((req, res) => {
    if (req.headers['x-amz-server-side-encryption'] === 'aws:kms') seen.kms++;
    if (req.headers['x-amz-server-side-encryption-aws-kms-key-id'] === 'alias/sluice-test') seen.keyId++;
    if (req.headers['x-amz-storage-class'] === 'STANDARD_IA') seen.storage++;
    if (/[?&]partNumber=/.test(req.url ?? '')) seen.parts++;
    const up = http.request({ host: '127.0.0.1', port: s3.port, method: req.method, path: req.url, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode ?? 502, ur.headers); ur.pipe(res); });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  // A 20 s interval (the segment rolls at 16 s): the records below land in one segment even on a
  // loaded machine, so its LZO file is over the multipart threshold.
  const s = await server({ ship: { multipartThresholdBytes: '5 MiB', partSizeBytes: '5 MiB' }, s3: { sse: 'aws:kms', kmsKeyId: 'alias/sluice-test', storageClass: 'STANDARD_IA' } }, shipEnv({ endpoint }, 20));
  const { randomBytes } = await import('node:crypto');
  const sent: string[] = [];
  // About 7 MiB of incompressible records: the LZO file is over the multipart threshold.
  for (let i = 0; i < 140; i++) {
    const batch = Array.from({ length: 40 }, (_, k) => `m${i}-${k}`);
    await Promise.all(batch.map((eid) => request(s.port, { path: `/i?e=pv&eid=${eid}&r=${randomBytes(900).toString('base64url')}` }).then((r) => { if (r.status === 200) sent.push(eid); })));
  }
  const objs = await waitFor('the big object', async () => {
    const l = (await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo') && (o.Size ?? 0) > 5 * 1024 * 1024);
    return l.length > 0 ? l : null;
  }, 60_000, 500);
  t.ok(seen.parts >= 2, `uploaded in ${seen.parts} parts`);
  const file = await s3.get(objs[0]!.Key!);
  t.doesNotThrow(() => lzopTest(file), 'the multipart object passes lzop -t');
  t.ok(seen.kms > 0 && seen.keyId > 0, 'SSE-KMS with the key id requested');
  t.ok(seen.storage > 0, 'storage class requested');
  const all = await waitFor('everything shipped', async () => {
    const eids: string[] = [];
    for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) eids.push(...parseBlocks(lzopDecompress(await s3.get(o.Key!))).records.flatMap(eidsOf));
    return eids.length >= sent.length ? eids : null;
  }, 60_000, 1000);
  t.same(all.sort(), sent.sort(), 'every event exactly once');
});

t.test('an acknowledged event is in S3 within SLUICE_SHIP_INTERVAL_S', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const interval = 6;
  const s = await server({}, shipEnv(s3, interval));
  const r = await request(s.port, { path: '/i?e=pv&eid=deadline' });
  const acked = Date.now();
  t.equal(r.status, 200);
  await waitFor('the event in S3', async () => ((await s3.list('raw/')).some((o) => o.Key!.endsWith('.lzo')) ? true : null), 30_000, 100);
  const took = Date.now() - acked;
  t.ok(took <= interval * 1000, `in S3 ${took} ms after its 200 (interval ${interval} s; the segment rolls at ${interval * 1000 - Math.min(5000, interval * 200)} ms)`);
});
