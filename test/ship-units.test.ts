// Unit tests of src/ship and src/tools pieces: object keys, S3 settings from the config, the
// embedded S3 and the connection to it (also when a collector already runs one), the segment
// source, shipping one segment to a directory, S3 upload verification, the outbox's bound, and
// the tools' argument parsing, progress and inspect.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { configFromObject } from '../src/config/load';
import { startEmbeddedS3 } from '../src/ship/embedded-s3';
import { objectKey } from '../src/ship/key-template';
import { Outbox, slotBytes } from '../src/ship/outbox';
import { connectS3 } from '../src/ship/s3-connection';
import { ensureBucket, uploadFile, UploadVerificationError } from '../src/ship/s3-target';
import { walSegmentSource } from '../src/ship/segment-source';
import { HashingFile } from '../src/ship/segment-files';
import { shipSegment } from '../src/ship/ship-segment';
import type { SegmentRef } from '../src/ship/ship-plan';
import { s3Settings } from '../src/ship/start-shipper';
import { CliError } from '../src/tools/cli-error';
import { inspectFile } from '../src/tools/inspect';
import { Progress } from '../src/tools/progress';
import { parseReplayArgs } from '../src/tools/replay';
import { lzopTest } from './helpers/lzo-read';
import { openWal, put, record, tempDir } from './helpers/wal';

t.test('object keys: the UTC hour of the first event, zero-padded sequence', async (t) => {
  const key = objectKey('{prefix}/{yyyy}/{MM}/{dd}/{HH}/{instance}-{seq}.{ext}', { prefix: 'raw', instance: 'i-1', seq: 42, firstEventMs: Date.UTC(2026, 0, 2, 3, 59), ext: 'lzo' });
  t.equal(key, 'raw/2026/01/02/03/i-1-00000000000000000042.lzo');
  t.equal(objectKey('{prefix}/{instance}-{seq}.{ext}', { prefix: '', instance: 'a', seq: 1, firstEventMs: 0, ext: 'gz' }), 'a-00000000000000000001.gz', 'an empty prefix leaves no leading slash');
});

t.test('S3 settings from the configuration', async (t) => {
  const { config } = configFromObject({ s3: { region: 'eu-west-1', useAws: true, bucket: 'b-ucket', sse: 'AES256' }, ship: { partSizeBytes: '5 MiB' } });
  const s = s3Settings(config);
  t.equal(s.endpoint, 'https://s3.eu-west-1.amazonaws.com', 'AWS S3 for the region');
  t.same([s.bucket, s.sse, s.partSize], ['b-ucket', 'AES256', 5 * 1024 * 1024]);
  t.equal(s3Settings(configFromObject({}).config).endpoint, null, 'no endpoint: the embedded S3');
});

t.test('the embedded S3, and a tool connecting to one a collector runs', async (t) => {
  const dir = tempDir('sluice-emb-');
  const server = await startEmbeddedS3(dir, 0);
  t.teardown(() => server.close());
  const port = Number(new URL(server.endpoint).port);
  const settings = s3Settings(configFromObject({}).config);
  const conn = await connectS3(settings, dir, port, 'use-running');
  t.equal(conn.s3.endpoint, `http://127.0.0.1:${port}`, 'the running one is used');
  await ensureBucket(conn.client, 'probe-bucket', true);
  await conn.client.send(new HeadBucketCommand({ Bucket: 'probe-bucket' }));
  t.pass('and answers with the embedded credentials');
  await conn.close();
  await t.rejects(() => connectS3(settings, dir, port, 'fail'), /port 127\.0\.0\.1:\d+ is taken/, 'the collector itself refuses a taken port');
});

t.test('upload verification: what S3 stored must be what was sent', async (t) => {
  const dir = tempDir('sluice-up-');
  const server = await startEmbeddedS3(join(dir, 's3'), 0);
  t.teardown(() => server.close());
  const settings = { ...s3Settings(configFromObject({}).config), endpoint: server.endpoint, forcePathStyle: true, bucket: 'up-bucket' };
  const conn = await connectS3(settings, dir, 0);
  await ensureBucket(conn.client, 'up-bucket', true);
  const f = HashingFile.create(join(dir, 'file'));
  f.write(Buffer.from('hello world'));
  const file = f.close();
  await uploadFile(conn.client, settings, 'k', file, 'text/plain');
  t.pass('a verified upload');
  const lie = { ...file, md5: '0'.repeat(32) };
  await t.rejects(() => uploadFile(conn.client, settings, 'k2', lie, 'text/plain'), UploadVerificationError, 'an ETag that is not the MD5 sent: refused');
  await conn.client.send(new PutObjectCommand({ Bucket: 'up-bucket', Key: 'x', Body: 'x' }));
  await conn.close();
});

t.test('segment source and shipping one segment to a directory', async (t) => {
  const wal = openWal(tempDir(), { segmentBytes: 256 * 1024 });
  const source = walSegmentSource(wal);
  const seen: SegmentRef[] = [];
  source.onSealed((s) => seen.push(s));
  for (let i = 0; i < 30; i++) await put(wal, [record(i, 300)]);
  t.ok(source.openAgeMs() >= 0, 'the open segment has an age');
  await wal.close();
  t.equal(seen.length, 1, 'the sealed segment is announced');
  t.equal(seen[0]!.instanceId, wal.instanceId);
  const out = tempDir('sluice-todir-');
  const outbox = new Outbox(tempDir('sluice-ob-'), 1, slotBytes(256 * 1024));
  t.teardown(() => outbox.close());
  const slot = outbox.acquire()!;
  t.equal(outbox.acquire(), null, 'one slot: taken');
  const plan = { s3: s3Settings(configFromObject({}).config), format: 'lzo' as const, keyTemplate: '{prefix}/{instance}-{seq}.{ext}', prefix: 'raw', badPrefix: 'bad', outDir: out, readChunkBytes: 64 * 1024, concurrency: 1, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };
  const info = await shipSegment(seen[0]!, plan, null, slot.placer, { toDir: out });
  outbox.release(slot);
  t.equal(info.records, 30);
  t.same(info.keys.map((k) => k.replace(/[0-9a-f-]{36}/, 'I')), ['raw/I-00000000000000000000.lzo', 'raw/I-00000000000000000000.lzo.index']);
  const lzo = readFileSync(join(out, info.keys[0]!));
  lzopTest(lzo);
  t.equal(inspectFile(join(out, info.keys[0]!), true).records.length, 30, 'inspect --verify reads it back with its index');
  t.ok(existsSync(join(out, info.keys[1]!)));
  t.throws(() => outbox.release(slot), /released twice/, 'a slot is released once');
});

t.test('an outbox slot is never written past its reservation', async (t) => {
  const outbox = new Outbox(tempDir('sluice-ob2-'), 1, 1024);
  t.teardown(() => outbox.close());
  const slot = outbox.acquire()!;
  const a = slot.placer.open('a');
  a.write(Buffer.alloc(1000));
  a.close();
  const b = slot.placer.open('b');
  t.throws(() => b.write(Buffer.alloc(100)), /would pass the reserved/, 'the second file has only the rest of the slot');
  t.ok(slotBytes(64 * 1024 * 1024) > 64 * 1024 * 1024 * 4 / 3, 'a slot holds a segment\'s files, base64 included');
});

t.test('tools: arguments, progress', async (t) => {
  t.same(parseReplayArgs(['/w', '--dry-run', '--to-dir', '/o']), { walDir: '/w', dryRun: true, streamOnly: false, toDir: '/o', configFile: null });
  t.same(parseReplayArgs(['/w', '--stream-only']), { walDir: '/w', dryRun: false, streamOnly: true, toDir: null, configFile: null });
  t.throws(() => parseReplayArgs(['/w', '--stream-only', '--to-dir', '/o']), /--stream-only writes no files/);
  t.equal(parseReplayArgs(['--help']), 'help');
  t.throws(() => parseReplayArgs([]), { code: 'SLUICE_E_TOOL' });
  t.throws(() => parseReplayArgs(['/a', '/b']), /one WAL directory at a time/);
  const e = new CliError('x', 2);
  t.equal(e.exitCode, 2);
  const p = new Progress('replay', 10, 'records');
  p.add(5);
  p.finish();
  t.pass('progress draws and finishes on stderr');
});
