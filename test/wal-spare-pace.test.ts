// Spare segments are written at a pace: four times the append rate, at least the floor, and with
// no limit when the open segment is past half way to its roll with no spare ready. The pace is
// followed by a fill under way and a new one takes effect at once.
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  FILL_PACE_FACTOR, FILL_PACE_FLOOR_KIB, FILL_SYNC_BYTES, Preallocator, prepareSpareSync, spareFillPace, ZERO_CHUNK_BYTES,
} from '../src/wal/preallocator';
import { HEADER_BYTES, readHeader, type SegmentHeader, writeHeader } from '../src/wal/segment-format';
import { waitFor } from './helpers/wait';
import { tempDir } from './helpers/wal';

const MiB = 1024 * 1024;

t.test('the pace: floor, factor, and no limit when a roll would wait for its spare', async (t) => {
  t.equal(spareFillPace({ appendBytesPerSecond: 0, spareReady: true, openSegmentProgress: 0 }), FILL_PACE_FLOOR_KIB, 'idle: the floor');
  t.equal(spareFillPace({ appendBytesPerSecond: 40 * MiB, spareReady: true, openSegmentProgress: 0.1 }), FILL_PACE_FACTOR * 40 * 1024, 'busy: the factor times the append rate');
  t.equal(spareFillPace({ appendBytesPerSecond: 40 * MiB, spareReady: false, openSegmentProgress: 0.5 }), 0, 'half way with no spare: no limit');
  t.equal(spareFillPace({ appendBytesPerSecond: 0, spareReady: false, openSegmentProgress: 0.9 }), 0, 'an old segment (age counts as progress) with no spare: no limit');
  t.equal(spareFillPace({ appendBytesPerSecond: 0, spareReady: false, openSegmentProgress: 0.49 }), FILL_PACE_FLOOR_KIB, 'before half way: paced');
  t.equal(spareFillPace({ appendBytesPerSecond: 0, spareReady: true, openSegmentProgress: 0.99 }), FILL_PACE_FLOOR_KIB, 'a spare is ready: paced');
});

function header(seq: number, capacity: number): SegmentHeader {
  return { instanceId: randomUUID(), seq, createdMs: Date.now(), capacity };
}

t.test('a fill keeps to its pace and is complete', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const size = 4 * FILL_SYNC_BYTES;
  const headerBytes = Buffer.alloc(HEADER_BYTES);
  writeHeader(headerBytes, header(7, size));
  const pace = new Int32Array(new SharedArrayBuffer(4));
  const kibPerSecond = size / 1024; // one second for the whole file
  Atomics.store(pace, 0, kibPerSecond);
  const started = performance.now();
  prepareSpareSync(fs, {
    path: join(dir, 'spare.tmp'), finalPath: join(dir, 'segment.seg'), dir, size, chunk: ZERO_CHUNK_BYTES,
    syncEvery: FILL_SYNC_BYTES, create: true, header: headerBytes,
  }, pace);
  const took = performance.now() - started;
  // The last step is due at one second: the fill cannot end much before it (only later).
  t.ok(took >= 900, `${size} bytes at ${kibPerSecond} KiB/s took ${took.toFixed(0)} ms (at least ~1,000)`);
  const written = fs.readFileSync(join(dir, 'segment.seg'));
  t.equal(written.length, size, 'the spare has its full size');
  const h = readHeader(written);
  t.equal(typeof h === 'string' ? h : h.seq, 7, 'with its header');
  t.ok(written.subarray(HEADER_BYTES).every((b) => b === 0), 'and zeros after it');
});

t.test('a new pace takes effect in a fill under way', async (t) => {
  const dir = tempDir();
  const size = 4 * MiB;
  let seq = 0;
  const prealloc = new Preallocator(dir, size, 0, () => header(++seq, size));
  t.teardown(async () => {
    await prealloc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  prealloc.setPace(16); // 16 KiB/s: this spare would take over four minutes
  prealloc.ensure();
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(prealloc.available, 'at 16 KiB/s the spare is not ready after 500 ms');
  const from = performance.now();
  prealloc.setPace(0);
  const ready = await waitFor('the spare', async () => (prealloc.available ? true : null), 20_000, 20).then(() => true, () => false);
  t.ok(ready, `with no limit the spare was ready (${(performance.now() - from).toFixed(0)} ms later, not minutes)`);
  const spare = prealloc.take();
  t.equal(fs.statSync(spare.path).size, size, 'the spare is complete');
});
