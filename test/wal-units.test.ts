// Unit tests of the WAL's policies and small mechanisms: admission, the roll policy, frame repair
// on a buffer, segment release, wal.state and sequence reservation, and the spare thread itself
// (its compiled file, as the Preallocator starts it).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { refusalReason } from '../src/wal/admission';
import { markVoid, voidCorruptFrames } from '../src/wal/frame-repair';
import { RollPolicy } from '../src/wal/roll-policy';
import { FRAME_HEADER_BYTES, FrameKind, HEADER_BYTES, readHeader, writeHeader } from '../src/wal/segment-format';
import { retireSegmentFile } from '../src/wal/segment-release';
import { scanSegmentBuffer } from '../src/wal/segment-scanner';
import { SegmentWriter } from '../src/wal/segment-writer';
import type { FillRequest, FillResult } from '../src/wal/spare-worker';
import { readWalState, SequenceReservation, WalStateError, writeWalState } from '../src/wal/wal-state';
import { STATE_FILE } from '../src/wal/wal-files';
import { ROOT } from './helpers/server';
import { record, tempDir } from './helpers/wal';

const limits = { minFreeBytes: 100, maxUnshippedBytes: 1000, maxSyncLatencyMs: 50 };
const fine = { syncFailure: null, closing: false, spareFailure: null, freeDiskBytes: 500, unshippedBytes: 10, runningSyncMs: 0, lastSyncMs: 1 };

t.test('admission: each condition refuses, with its reason', async (t) => {
  t.equal(refusalReason(fine, limits), null);
  t.match(refusalReason({ ...fine, syncFailure: new Error('EIO') }, limits)!, /^WAL sync failed: EIO/);
  t.equal(refusalReason({ ...fine, closing: true }, limits), 'WAL closing');
  t.match(refusalReason({ ...fine, spareFailure: Object.assign(new Error('x'), { code: 'ENOSPC' }) }, limits)!, /preallocate the next segment: ENOSPC/);
  t.match(refusalReason({ ...fine, freeDiskBytes: 99 }, limits)!, /free disk 99 bytes is below the floor of 100/);
  t.match(refusalReason({ ...fine, unshippedBytes: 1001 }, limits)!, /exceed the cap of 1000/);
  t.match(refusalReason({ ...fine, runningSyncMs: 51 }, limits)!, /has been running for 51 ms/);
  t.match(refusalReason({ ...fine, lastSyncMs: 80 }, limits)!, /the last WAL sync took 80 ms/);
});

t.test('roll policy: size with room for the footer, age on the monotonic clock', async (t) => {
  const p = new RollPolicy(1000, 60_000);
  const seg = { records: 3, size: 900, fits: (n: number) => 900 + FRAME_HEADER_BYTES + n <= 1000 - 45 };
  t.ok(p.dueBySize(seg, 60, 1), 'does not fit');
  t.notOk(p.dueBySize(seg, 10, 1), 'fits');
  t.notOk(p.dueByAge(seg, 1000, 60_999));
  t.ok(p.dueByAge(seg, 1000, 61_000), 'its first record is a roll age old');
  t.notOk(p.dueByAge({ ...seg, records: 0 }, 0, 1e9), 'an empty segment never rolls on age');
  t.equal(p.progress(seg, 0, 30_000), 0.9, 'the larger of fill (0.9) and age (0.5)');
  t.equal(RollPolicy.rollAgeMs(60_000, true, 60_000), 55_000, 'early enough for the upload: 5 s allowance');
  t.equal(RollPolicy.rollAgeMs(60_000, true, 10_000), 8_000, 'a fifth of a short interval');
  t.equal(RollPolicy.rollAgeMs(60_000, false, 10_000), 60_000, 'no shipping: the configured age');
});

/** A segment of 10 records in a buffer (header, frames, end marker, zeros to `capacity`). */
function segmentBuffer(capacity = 16 * 1024): { buf: Buffer; offsets: number[] } {
  const dir = tempDir();
  const path = join(dir, 'seg');
  writeFileSync(path, Buffer.alloc(capacity));
  const w = new SegmentWriter(path, { instanceId: '11111111-2222-4333-8444-555555555555', seq: 1, createdMs: 1, capacity });
  const offsets: number[] = [];
  let off = HEADER_BYTES;
  for (let i = 0; i < 10; i++) {
    offsets.push(off);
    const r = record(i, 200);
    w.append(FrameKind.Good, r, 1);
    off += FRAME_HEADER_BYTES + r.length;
  }
  w.close();
  return { buf: readFileSync(path), offsets };
}

t.test('frame repair on a buffer: void one frame, undo when the result would not be clean', async (t) => {
  const { buf, offsets } = segmentBuffer();
  buf[offsets[4]! + FRAME_HEADER_BYTES + 5] ^= 1;
  const scan = scanSegmentBuffer(buf);
  if (typeof scan === 'string') throw new Error(scan);
  t.same(scan.corrupt, { offset: offsets[4], bytes: FRAME_HEADER_BYTES + 200 }, 'the walk stops at the corrupt frame');
  const r = voidCorruptFrames(buf, scan, 8);
  t.equal(r.voided.length, 1);
  t.equal(r.scan.records.length, 9, 'the nine others');
  t.equal(r.scan.problem, null, 'clean after');
  t.equal(buf[offsets[4]! + 8], FrameKind.Void, 'the frame is a void frame in the buffer');
  // A torn last frame: nothing after it but the end marker; left as it was.
  const torn = segmentBuffer();
  torn.buf[torn.offsets[9]! + FRAME_HEADER_BYTES + 5] ^= 1;
  const before = Buffer.from(torn.buf);
  const tornScan = scanSegmentBuffer(torn.buf);
  if (typeof tornScan === 'string') throw new Error(tornScan);
  t.equal(voidCorruptFrames(torn.buf, tornScan, 8).voided.length, 0, 'not voided');
  t.ok(torn.buf.equals(before), 'the buffer unchanged');
  // markVoid makes a valid frame of any bytes.
  const v = segmentBuffer();
  markVoid(v.buf, v.offsets[2]!, FRAME_HEADER_BYTES + 200);
  const vs = scanSegmentBuffer(v.buf);
  if (typeof vs === 'string') throw new Error(vs);
  t.same(vs.voids.map((x) => x.offset), [v.offsets[2]], 'read as a void');
  t.equal(vs.records.length, 9);
});

t.test('segment release: deleted, or moved to the archive', async (t) => {
  const dir = tempDir();
  const a = join(dir, 'a.seg');
  const b = join(dir, 'b.seg');
  writeFileSync(a, 'a');
  writeFileSync(b, 'b');
  retireSegmentFile(a, null);
  t.notOk(existsSync(a), 'deleted');
  const archive = join(dir, 'archive', 'deep');
  retireSegmentFile(b, archive);
  t.notOk(existsSync(b));
  t.equal(readFileSync(join(archive, 'b.seg'), 'utf8'), 'b', 'moved, the archive made');
  retireSegmentFile(a, null);
  t.pass('deleting a file already gone is fine');
});

t.test('wal.state and sequence reservation', async (t) => {
  const dir = tempDir();
  t.equal(readWalState(dir), null, 'absent: a new directory');
  writeWalState(dir, { instanceId: '11111111-2222-4333-8444-555555555555', nextSeq: 5 });
  t.same(readWalState(dir), { instanceId: '11111111-2222-4333-8444-555555555555', nextSeq: 5 });
  const seq = new SequenceReservation(dir, '11111111-2222-4333-8444-555555555555', 5);
  t.same([seq.claim(), seq.claim(), seq.claim()], [5, 6, 7], 'in order');
  t.ok(readWalState(dir)!.nextSeq > 7, 'reserved ahead in the state file');
  writeFileSync(join(dir, STATE_FILE), '{"instanceId":"nope"}');
  t.throws(() => readWalState(dir), { code: 'SLUICE_E_WAL_STATE' });
  writeFileSync(join(dir, STATE_FILE), 'garbage');
  try {
    readWalState(dir);
  } catch (e) {
    t.ok(e instanceof WalStateError);
    t.match((e as Error).message, /wal\.state is not a valid WAL state file/);
  }
});

t.test('the spare thread prepares a file under its segment name, and reports a failure', async (t) => {
  const dir = tempDir();
  const pace = new SharedArrayBuffer(4);
  const w = new Worker(join(ROOT, 'dist', 'wal', 'spare-worker.js'), { workerData: { pace } });
  t.teardown(() => w.terminate());
  const header = Buffer.alloc(HEADER_BYTES + FRAME_HEADER_BYTES);
  writeHeader(header, { instanceId: '11111111-2222-4333-8444-555555555555', seq: 9, createdMs: 1, capacity: 64 * 1024 });
  const ask = (m: FillRequest): Promise<FillResult> => new Promise((resolve) => { w.once('message', resolve); w.postMessage(m); });
  const ok = await ask({ id: 1, path: join(dir, 'spare.tmp'), finalPath: join(dir, 'seg-9'), dir, size: 64 * 1024, chunk: 4096, syncEvery: 16 * 1024, create: true, header });
  t.same(ok, { id: 1, ok: true });
  t.equal(statSync(join(dir, 'seg-9')).size, 64 * 1024, 'the whole size written');
  const h = readHeader(readFileSync(join(dir, 'seg-9')));
  t.ok(typeof h !== 'string' && h.seq === 9, 'with its header');
  t.notOk(existsSync(join(dir, 'spare.tmp')), 'renamed');
  mkdirSync(join(dir, 'blocked'));
  const bad = await ask({ id: 2, path: join(dir, 'nodir', 'x.tmp'), finalPath: join(dir, 'y'), dir, size: 4096, chunk: 4096, syncEvery: 4096, create: true, header });
  t.equal(bad.ok, false);
  t.equal(bad.ok === false ? bad.code : null, 'ENOENT', 'the error code comes back');
  t.same(readdirSync(dir).sort(), ['blocked', 'seg-9'], 'no file left behind');
});
