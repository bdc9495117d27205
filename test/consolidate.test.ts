// sluice consolidate: 300 shipper-made files of an hour into one splittable LZO, checked by
// lzop -t, by a read from every index offset and by record counts; reruns are idempotent, late
// inputs are merged, --delete-inputs removes only merged inputs; bad input leaves no output.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeCollectorPayload, COLLECTOR_PAYLOAD_SCHEMA } from '../src/payload/collector-payload';
import { writeLzoFile } from '../src/ship/segment-files';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, lzopTest, nextMarker, parseBlocks, readIndex, readLzopBlocks } from './helpers/lzo-read';
import { BUCKET, shipEnv, startS3, type TestS3 } from './helpers/s3';
import { sluice } from './helpers/cli';


const HOUR = '2026-11-26T08';
const FOLDER = 'raw/2026/11/26/08';
const dir = mkdtempSync(join(tmpdir(), 'sluice-consol-'));

async function putInput(s3: TestS3, instance: string, seq: number, eids: string[]): Promise<void> {
  const records = eids.map((eid) => encodeCollectorPayload({ schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '192.0.2.1', timestamp: Date.UTC(2026, 10, 26, 8, 30), encoding: 'UTF-8', collector: 'sluice-test-wal', path: '/i', querystring: `e=pv&eid=${eid}&pad=${'p'.repeat(200)}`, headers: ['Host: c'], networkUserId: 'n' }));
  const base = join(dir, `${instance}-${seq}.lzo`);
  const { file, index } = writeLzoFile(records, base, Math.floor(Date.UTC(2026, 10, 26, 8) / 1000));
  const key = `${FOLDER}/${instance}-${String(seq).padStart(20, '0')}.lzo`;
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file.path) }));
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${key}.index`, Body: readFileSync(index.path) }));
}

const eidsOf = (records: Buffer[]): string[] => records.map((r) => new URLSearchParams(decodeRecord(r).querystring!).get('eid')!);

t.test('300 files into one', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const instances = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];
  const expected: string[] = [];
  for (const inst of instances) {
    for (let seq = 0; seq < 100; seq++) {
      const eids = Array.from({ length: 20 }, (_, i) => `${inst.slice(0, 1)}-${seq}-${i}`);
      await putInput(s3, inst, seq, eids);
      expected.push(...eids);
    }
  }
  const env = shipEnv(s3);
  const run = await sluice(['consolidate', '--hour', HOUR], env);
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /"records":6000,"inputs":300,"merged":300/);
  const out = await s3.get(`${FOLDER}/consolidated-2026112608.lzo`);
  t.doesNotThrow(() => lzopTest(out), 'lzop -t passes');
  const records = parseBlocks(lzopDecompress(out)).records;
  t.equal(records.length, 6000, 'record count');
  t.same(eidsOf(records), expected, 'every record once, inputs in key order');
  const index = readIndex(await s3.get(`${FOLDER}/consolidated-2026112608.lzo.index`));
  const walk = await readLzopBlocks(out);
  t.same(index, walk.offsets, `index = LZO block offsets (${index.length})`);
  for (const off of index) {
    const tail = (await readLzopBlocks(out, off)).data;
    const m = nextMarker(tail);
    if (m < 0) continue;
    const suffix = parseBlocks(tail, m).records;
    if (!suffix.every((r, i) => r.equals(records[records.length - suffix.length + i]!))) t.fail(`read from ${off} is not whole records`);
  }
  t.pass('a read from every index offset yields whole records');

  const again = await sluice(['consolidate', '--hour', HOUR], env);
  t.match(again.stdout, /already consolidated/, 'a rerun changes nothing');
  await putInput(s3, instances[0]!, 500, ['late-1', 'late-2']);
  const late = await sluice(['consolidate', '--hour', HOUR], env);
  t.match(late.stdout, /"records":6002,"inputs":301,"merged":1/, 'a late input is merged with the existing output');
  t.same(eidsOf(parseBlocks(lzopDecompress(await s3.get(`${FOLDER}/consolidated-2026112608.lzo`))).records).slice(-2), ['late-1', 'late-2']);
  const del = await sluice(['consolidate', '--hour', HOUR, '--delete-inputs'], env);
  t.equal(del.status, 0, del.stderr);
  const left = (await s3.list(`${FOLDER}/`)).map((o) => o.Key!);
  t.same(left.sort(), [`${FOLDER}/consolidated-2026112608.lzo`, `${FOLDER}/consolidated-2026112608.lzo.index`, `${FOLDER}/consolidated-2026112608.lzo.manifest.json`], 'only the output remains');
  const empty = await sluice(['consolidate', '--hour', '2026-11-26T09'], env);
  t.match(empty.stdout, /nothing to consolidate/);
  const range = await sluice(['consolidate', '--hour', '2026-11-26T07', '--to-hour', '2026-11-26T09'], env);
  t.equal(range.status, 0, range.stderr);
  t.same(range.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { hour: string }).hour), ['2026112607', '2026112608', '2026112609'], 'a range does every hour in order');
});

t.test('bad input leaves no output', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await putInput(s3, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 1, ['a', 'b']);
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${FOLDER}/bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb-00000000000000000001.lzo`, Body: Buffer.from('not lzo at all') }));
  const r = await sluice(['consolidate', '--hour', HOUR], shipEnv(s3));
  t.equal(r.status, 1);
  t.match(r.stderr, /bbbbbbbb.*wrong magic \(byte offset 0\)/, r.stderr.trim());
  t.notOk((await s3.list(`${FOLDER}/`)).some((o) => o.Key!.includes('consolidated')), 'no partial output');
  const missing = await sluice(['consolidate', '--hour', HOUR], { ...shipEnv(s3), SLUICE_S3_BUCKET: 'missing-bucket' });
  t.match(missing.stderr, /bucket missing-bucket does not exist/);
  t.equal((await sluice(['consolidate', '--hour', '2026-13-01T00'], shipEnv(s3))).status, 2, 'a bad hour exits 2');
  t.match((await sluice(['consolidate'], shipEnv(s3))).stderr, /--hour is required/);
});
