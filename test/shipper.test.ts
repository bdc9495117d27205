// Shipper (src/ship/shipper.ts) against real S3 over HTTP: s3rver, and a closed port for an S3 that
// refuses. Planning (oldest first), retries in rounds, and the idle signal a drain relies on.
import { readdirSync } from 'node:fs';
import t from 'tap';
import { freePort } from './helpers/ports';
import { S3Client } from '@aws-sdk/client-s3';
import { Shipper, type ShippedInfo } from '../src/ship/shipper';
import { type SegmentRef, type ShipPlan } from '../src/ship/ship-plan';
import { SEGMENT_NAME } from '../src/wal/wal-files';
import { BUCKET, startS3 } from './helpers/s3';
import { openWal, put, record, tempDir } from './helpers/wal';
import { ensureBucket } from '../src/ship/s3-target';
import { Outbox, slotBytes } from '../src/ship/outbox';

/** Sealed segments with `perSegment` records each, as SegmentRefs. */
async function sealedSegments(count: number, perSegment = 50): Promise<SegmentRef[]> {
  const dir = tempDir();
  const refs: SegmentRef[] = [];
  for (let s = 0; s < count; s++) {
    const wal = openWal(dir);
    for (let i = 0; i < perSegment; i++) await put(wal, [record(s * 1000 + i)]);
    await wal.close();
  }
  const wal = openWal(dir);
  for (const seg of wal.sealedSegments()) refs.push({ instanceId: wal.instanceId, seq: seg.seq, path: seg.path, firstMs: seg.footer.firstMs });
  await wal.close();
  t.equal(readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).length, count, 'segments on disk');
  return refs;
}


function plan(endpoint: string, over: Partial<ShipPlan> = {}): ShipPlan {
  return {
    s3: { endpoint, region: 'us-east-1', bucket: BUCKET, forcePathStyle: true, sse: 'none', kmsKeyId: null, storageClass: null, multipartThreshold: 16 * 1024 * 1024, partSize: 8 * 1024 * 1024, requestTimeoutMs: 2000 },
    format: 'lzo', keyTemplate: '{prefix}/{instance}-{seq}.{ext}', prefix: 'raw', badPrefix: 'bad', outDir: tempDir('sluice-outbox-'), readChunkBytes: 64 * 1024,
    concurrency: 1, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 200 }, ...over,
  };
}

/** The plan with a reserved outbox of one slot per segment shipped at once. */
function withOutbox(p: ShipPlan): ShipPlan & { outbox: Outbox } {
  return { ...p, outbox: new Outbox(p.outDir, p.concurrency, slotBytes(1024 * 1024)) };
}

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxAttempts: 1 });
}

const log = { info: (): void => undefined, warn: (): void => undefined };

t.test('a segment waiting for its retry is not idle: the drain waits for it', async (t) => {
  const [seg] = await sealedSegments(1);
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const shipped: ShippedInfo[] = [];
  const shipper = new Shipper({ ...withOutbox(plan(endpoint)), client: client(endpoint), log, onShipped: (i) => shipped.push(i) });
  t.teardown(() => shipper.stop());
  shipper.enqueue(seg!);
  // Several rounds fail within the wait (200 ms apart); the shipper must not say it is idle.
  const idle = await shipper.waitIdle(1500);
  t.equal(idle, false, 'waitIdle times out while the segment is unshipped');
  t.ok(shipper.stats.failedRounds >= 2, `failed rounds counted (${shipper.stats.failedRounds})`);
  t.equal(shipped.length, 0);
});

t.test('ships oldest first, reports each segment once, then is idle', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await ensureBucket(s3.client, BUCKET, true);
  const segs = await sealedSegments(3);
  const shipped: ShippedInfo[] = [];
  const shipper = new Shipper({ ...withOutbox(plan(s3.endpoint)), client: client(s3.endpoint), log, onShipped: (i) => shipped.push(i) });
  t.teardown(() => shipper.stop());
  // Enqueued newest first, twice over: the first starts at once (concurrency 1), the queue orders
  // the others oldest first and drops the repeats.
  for (const s of [...segs].reverse()) shipper.enqueue(s);
  for (const s of segs) shipper.enqueue(s);
  t.equal(await shipper.waitIdle(30_000), true, 'idle once everything is shipped');
  t.same(shipped.map((i) => i.seq), [segs[2]!.seq, segs[0]!.seq, segs[1]!.seq], 'the one started, then oldest first, each once');
  t.equal(shipped.reduce((n, i) => n + i.records, 0), 150, 'every record');
  const keys = (await s3.list('raw/')).map((o) => o.Key).sort();
  t.equal(keys.length, 6, 'an .lzo and its .lzo.index per segment');
  t.equal(shipper.stats.shipped, 3);
});

t.test('an S3 that comes back: the retried segment ships', async (t) => {
  const s3 = await startS3();
  await ensureBucket(s3.client, BUCKET, true);
  await s3.stop();
  const [seg] = await sealedSegments(1);
  const shipped: ShippedInfo[] = [];
  const shipper = new Shipper({ ...withOutbox(plan(s3.endpoint)), client: client(s3.endpoint), log, onShipped: (i) => shipped.push(i) });
  t.teardown(() => shipper.stop());
  shipper.enqueue(seg!);
  t.equal(await shipper.waitIdle(600), false, 'not shipped while S3 is down');
  await s3.restart();
  t.teardown(() => s3.stop());
  t.equal(await shipper.waitIdle(30_000), true, 'shipped once S3 is back');
  t.equal(shipped.length, 1);
  t.ok(shipper.stats.failedRounds >= 1, 'after at least one failed round');
  t.ok(shipper.stats.lastError !== null, 'the last error is kept for the health detail');
});
