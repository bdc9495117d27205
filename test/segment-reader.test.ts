// The shipper reads a sealed segment through one bounded chunk (ship.readChunkBytes), not whole: the
// streaming walk must find exactly what the in-memory scan finds (records, footer, the first
// problem and its offset) on sealed, open, cut and corrupted segments, with frames that straddle
// chunk boundaries; a record longer than the chunk grows the buffer to that record and no more;
// and the files built this way are the ones the in-memory path built (same LZO bytes, same MD5).
import t, { type Test } from 'tap';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSegmentOutputs, writeLzoFile } from '../src/ship/segment-files';
import { FRAME_HEADER_BYTES, FrameKind, HEADER_BYTES } from '../src/wal/segment-format';
import { segmentFileName } from '../src/wal/wal-files';
import { scanSegmentBuffer, SegmentFileReader, walkSegment, withSegmentFile, type SegmentWalk } from '../src/wal/segment-scanner';
import { SegmentWriter } from '../src/wal/segment-writer';
import { lzopDecompress, lzopTest, parseBlocks } from './helpers/lzo-read';

const CHUNK = 64 * 1024;
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'sluice-reader-'));

/** A record whose bytes say which one it is. */
function record(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i % 251);
  b.writeUInt32LE(i, 0);
  return b;
}

/** Sizes around the chunk: small ones, one just under it, one 3.5 chunks long. */
const SIZES = [100, 2_000, 17, CHUNK - FRAME_HEADER_BYTES - 5, 900, Math.floor(3.5 * CHUNK), 40, 1_500];

/** A segment of `n` records (bad rows every 7th), sealed or left open. */
function makeSegment(dir: string, n: number, sealed: boolean): string {
  const capacity = 8 * 1024 * 1024;
  const path = join(dir, segmentFileName(3));
  writeFileSync(path, Buffer.alloc(capacity));
  const w = new SegmentWriter(path, { instanceId: '11111111-2222-4333-8444-555555555555', seq: 3, createdMs: Date.UTC(2026, 10, 26, 9), capacity });
  for (let i = 0; i < n; i++) w.append(i % 7 === 6 ? FrameKind.Bad : FrameKind.Good, record(i, SIZES[i % SIZES.length]!), Date.UTC(2026, 10, 26, 9) + i);
  if (sealed) w.seal();
  w.close();
  return path;
}

interface Seen { kind: number; offset: number; bytes: Buffer }

function streamed(path: string, chunk: number): { walk: SegmentWalk | string; seen: Seen[] } {
  const seen: Seen[] = [];
  // Copied: the payload is a view of the reader's chunk, valid only during the call.
  const r = withSegmentFile(path, chunk, (reader) => ({ walk: walkSegment(reader, (kind, offset, payload) => seen.push({ kind, offset, bytes: Buffer.from(payload) })) }));
  return { walk: typeof r === 'string' ? r : r.walk, seen };
}

/** The streaming walk and the in-memory scan agree on everything; returns how many records. */
function agree(t: Test, path: string, chunk: number, what: string): number {
  const whole = scanSegmentBuffer(readFileSync(path));
  const { walk, seen } = streamed(path, chunk);
  if (typeof whole === 'string' || typeof walk === 'string') {
    t.equal(walk, whole, `${what}: the same unusable header`);
    return 0;
  }
  t.same({ records: walk.records, validEnd: walk.validEnd, footer: walk.footer, problem: walk.problem }, { records: whole.records.length, validEnd: whole.validEnd, footer: whole.footer, problem: whole.problem }, `${what}: same footer, end and problem`);
  const mismatch = seen.findIndex((s, i) => s.kind !== whole.records[i]!.kind || s.offset !== whole.records[i]!.offset || !s.bytes.equals(whole.records[i]!.payload));
  t.equal(mismatch, -1, `${what}: the same ${seen.length} records, byte for byte`);
  return seen.length;
}

t.test('the streaming walk finds what the in-memory scan finds, at any chunk size', async (t) => {
  const dir = tempDir();
  const path = makeSegment(dir, 60, true);
  for (const chunk of [FRAME_HEADER_BYTES, 4096, CHUNK, 1024 * 1024]) t.equal(agree(t, path, chunk, `sealed, chunk ${chunk}`), 60);
  const open = makeSegment(tempDir(), 25, false);
  t.equal(agree(t, open, CHUNK, 'open segment'), 25);
});

t.test('small chunks: every alignment of a frame against a chunk boundary', async (t) => {
  // Frames of 10-70 bytes read through chunks of 9-160 bytes: frames start, end and straddle a
  // boundary at every offset, and chunks shorter than a frame make the buffer grow.
  const dir = tempDir();
  const capacity = 64 * 1024;
  const path = join(dir, segmentFileName(4));
  writeFileSync(path, Buffer.alloc(capacity));
  const w = new SegmentWriter(path, { instanceId: '11111111-2222-4333-8444-555555555555', seq: 4, createdMs: 0, capacity });
  for (let i = 0; i < 300; i++) w.append(FrameKind.Good, record(i, 4 + ((i * 13) % 57)), i);
  w.seal();
  w.close();
  let wrong = 0;
  for (let chunk = FRAME_HEADER_BYTES; chunk <= 160; chunk++) {
    const whole = scanSegmentBuffer(readFileSync(path));
    const { walk, seen } = streamed(path, chunk);
    const ok = typeof whole !== 'string' && typeof walk !== 'string' && walk.footer !== null && walk.problem === null
      && seen.length === whole.records.length && seen.every((r, i) => r.bytes.equals(whole.records[i]!.payload));
    if (!ok) wrong++;
  }
  t.equal(wrong, 0, 'all 152 chunk sizes read the 300 records and the footer intact');
});

t.test('a record longer than the chunk grows the buffer to that record, no more', async (t) => {
  const path = makeSegment(tempDir(), 60, true);
  const fd = openSync(path, 'r');
  t.teardown(() => closeSync(fd));
  const reader = new SegmentFileReader(fd, CHUNK);
  t.equal(reader.bufferBytes, CHUNK, 'one chunk to start with');
  const { seen } = streamed(path, CHUNK);
  const longest = Math.max(...seen.map((s) => s.bytes.length));
  t.ok(longest > CHUNK, 'the segment holds a record longer than the chunk');
  // Walk with this reader to see its buffer afterwards.
  let n = 0;
  const walk = walkSegment(reader, () => { n++; });
  t.ok(typeof walk !== 'string' && walk.footer !== null && n === 60, 'every record read, footer checked');
  t.equal(reader.bufferBytes, longest + FRAME_HEADER_BYTES, 'the buffer grew to the longest frame exactly');
  t.throws(() => reader.at(reader.length - 4, 8), RangeError, 'reading past the end is refused');
  t.throws(() => new SegmentFileReader(fd, 4), /too small/, 'a chunk shorter than a frame header is refused');
});

t.test('cut and corrupted segments: the same first problem at the same offset', async (t) => {
  const path = makeSegment(tempDir(), 60, true);
  const original = readFileSync(path);
  const end = original.length;
  const at = [HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + 3, CHUNK - 1, CHUNK, CHUNK + 7, 2 * CHUNK + 100, end - 40, end - 1];
  let problems = 0;
  for (const off of at) {
    for (const mode of ['cut', 'corrupt'] as const) {
      const dir = tempDir();
      const file = join(dir, segmentFileName(3));
      const bytes = Buffer.from(original);
      if (mode === 'corrupt') bytes[off] = bytes[off]! ^ 0x5a;
      writeFileSync(file, mode === 'cut' ? bytes.subarray(0, off) : bytes);
      agree(t, file, CHUNK, `${mode} at ${off}`);
      const w = streamed(file, CHUNK).walk;
      if (typeof w === 'string' || w.problem !== null) problems++;
    }
  }
  t.equal(problems, at.length * 2, 'every damaged file is reported as damaged');
});

t.test('the shipper builds the same LZO file from a stream as from the records in memory', async (t) => {
  const dir = tempDir();
  const path = makeSegment(dir, 150, true);
  const whole = scanSegmentBuffer(readFileSync(path));
  if (typeof whole === 'string' || whole.footer === null) throw new Error('test segment not sealed');
  const good = whole.records.filter((r) => r.kind === FrameKind.Good).map((r) => r.payload);
  const out = tempDir();
  const built = buildSegmentOutputs(path, out, 'seg', 'lzo', CHUNK);
  const reference = writeLzoFile(good, join(tempDir(), 'ref.lzo'), Math.floor(whole.footer.firstMs / 1000));
  t.equal(built.good?.records, good.length, 'every good record');
  t.equal(built.good?.file.md5, reference.file.md5, 'the same LZO bytes');
  t.equal(built.good?.index?.md5, reference.index.md5, 'the same index');
  const file = readFileSync(built.good!.file.path);
  lzopTest(file);
  const back = parseBlocks(lzopDecompress(file)).records;
  t.ok(back.length === good.length && back.every((r, i) => r.equals(good[i]!)), 'decodes to the records, in order');
  t.equal(built.bad?.records, whole.records.length - good.length, 'bad rows go to their own file');
});

t.test('a segment that is not sealed is refused and leaves no open file behind', async (t) => {
  const path = makeSegment(tempDir(), 30, false);
  const out = tempDir();
  t.throws(() => buildSegmentOutputs(path, out, 'seg', 'lzo', CHUNK), /not sealed/);
  // The partial LZO file was closed (the caller removes the directory): no descriptor on it is left.
  const fds = readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).startsWith(out); } catch { return false; }
  });
  t.same(fds, [], 'no descriptor left open in the output directory');
  t.throws(() => buildSegmentOutputs(join(out, 'missing.seg'), out, 'seg', 'lzo', CHUNK), /cannot read: ENOENT/);
});
