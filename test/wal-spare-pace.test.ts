// Spare segments are written at a pace: four times the append rate, at least the floor, and with
// no limit when the open segment is past half way to its roll with no spare ready. The pace is
// followed by a fill under way and a new one takes effect at once. New spare files are written at
// start (wal.spareSegments) and later only when no shipped segment's file is expected back or no
// spare is left.
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  FILL_PACE_FACTOR, FILL_PACE_FLOOR_KIB, FILL_SYNC_BYTES, freshSpareDue, spareFillPace, ZERO_CHUNK_BYTES,
} from '../src/wal/spare-pacing';
import { Preallocator } from '../src/wal/preallocator';
import { prepareSpareSync } from '../src/wal/spare-file';
import { HEADER_BYTES, readHeader, type SegmentHeader, writeHeader } from '../src/wal/segment-format';
import { SEGMENT_NAME } from '../src/wal/wal-files';
import type { WriteAheadLog } from '../src/wal/write-ahead-log';
import { waitFor } from './helpers/wait';
import { openWal, put, record, tempDir } from './helpers/wal';

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
  const prealloc = new Preallocator(dir, size, 1, 0, () => header(++seq, size));
  t.teardown(async () => {
    await prealloc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  prealloc.setPace(16); // 16 KiB/s: this spare would take over four minutes
  prealloc.ensure(false);
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(prealloc.available, 'at 16 KiB/s the spare is not ready after 500 ms');
  const from = performance.now();
  prealloc.setPace(0);
  const ready = await waitFor('the spare', async () => (prealloc.available ? true : null), 20_000, 20).then(() => true, () => false);
  t.ok(ready, `with no limit the spare was ready (${(performance.now() - from).toFixed(0)} ms later, not minutes)`);
  const spare = prealloc.take();
  t.equal(fs.statSync(spare.path).size, size, 'the spare is complete');
});

t.test('a new spare file: when no shipped file is expected back or no spare is left', async (t) => {
  t.ok(freshSpareDue({ recycledExpected: false, sparesReady: 1 }), 'nothing to recycle: written');
  t.notOk(freshSpareDue({ recycledExpected: true, sparesReady: 1 }), 'a spare covers the next roll: the shipped file is awaited');
  t.ok(freshSpareDue({ recycledExpected: true, sparesReady: 0 }), 'no spare left: written');
});

/** Spare files in the WAL directory now: segment files that are neither sealed nor the open one. */
function spareFiles(dir: string, wal: WriteAheadLog): number {
  return fs.readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).length - wal.sealedSegments().length - 1;
}

t.test('wal.spareSegments: written at start; later rolls reuse shipped files, and a new file only when none is left', async (t) => {
  const dir = tempDir();
  const segmentBytes = 64 * 1024;
  const wal = openWal(dir, { segmentBytes, spareSegments: 2, recycleSegments: 2 });
  t.teardown(async () => {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.equal(wal.sparesCreated, 3, 'at start: the open segment and two spares');
  t.equal(spareFiles(dir, wal), 2, 'two spares wait in the directory');
  let n = 0;
  /** Appends until `count` segments were sealed by this WAL (a roll each). */
  const rolls = async (count: number): Promise<void> => {
    while (wal.counters.segmentsSealed < count) {
      if (!(await put(wal, [record(n++, 1000)]))) await new Promise((r) => setTimeout(r, 5));
    }
  };
  const noTmp = (): Promise<true> => waitFor('spares written', async () => (fs.readdirSync(dir).some((x) => x.endsWith('.tmp')) ? null : true), 5000, 5);
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 700)); // the WAL checks every 250 ms

  await rolls(1);
  await settle();
  t.equal(wal.sparesCreated, 3, 'after a roll, with a spare ready and the sealed segment expected back: no new file');
  t.equal(spareFiles(dir, wal), 1, 'one spare is left');
  wal.release(wal.sealedSegments()[0]!.seq);
  await noTmp();
  t.equal(wal.counters.segmentsRecycled, 1, 'the shipped segment came back');
  t.equal(spareFiles(dir, wal), 2, 'as the second spare');
  t.equal(wal.sparesCreated, 3, 'still no new file');

  // Shipping stops: the next roll leaves one spare, the one after none, and then a new file is
  // written at once, ready before the roll after.
  await rolls(2);
  await settle();
  t.equal(wal.sparesCreated, 3, 'one spare left: no new file');
  t.equal(spareFiles(dir, wal), 1, 'the one spare');
  await rolls(3);
  await waitFor('a new spare', async () => (wal.sparesCreated === 4 ? true : null), 5000, 10);
  // Counted when requested: the spare thread may not have created its file yet.
  await waitFor('the new spare ready', async () => (spareFiles(dir, wal) === 1 ? true : null), 5000, 5).catch(() => undefined);
  t.equal(spareFiles(dir, wal), 1, 'none left after that roll: a new one is written');
  const refusedBefore = wal.counters.refusedSubmits;
  await rolls(4);
  t.equal(wal.counters.refusedSubmits, refusedBefore, 'and that roll refused nothing');
  for (const s of [...wal.sealedSegments()]) wal.release(s.seq);
});

t.test('wal.spareSegments bounds the new files: with nothing to recycle, never more than that many spares', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir, { segmentBytes: 64 * 1024, spareSegments: 2, recycleSegments: 0 });
  t.teardown(async () => {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let most = spareFiles(dir, wal);
  for (let i = 0; wal.counters.segmentsSealed < 6; i++) {
    if (!(await put(wal, [record(i, 1000)]))) await new Promise((r) => setTimeout(r, 5));
    most = Math.max(most, spareFiles(dir, wal));
    if (i % 50 === 0) for (const s of [...wal.sealedSegments()].slice(0, -1)) wal.release(s.seq);
  }
  t.equal(most, 2, 'at most two spare files at any time');
  t.equal(wal.counters.segmentsRecycled, 0, 'nothing recycled (recycleSegments 0)');
  // Every roll after the two spares written at start took a new file (the one for the roll just
  // done may still be on its way, so the count is of rolls, not of spares requested).
  const rolls = wal.counters.segmentsSealed;
  t.ok(wal.sparesCreated - 3 >= rolls - 2, `a new spare for every roll past the first two (${wal.sparesCreated - 3} new files for ${rolls} rolls)`);
});
