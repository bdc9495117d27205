// One flipped bit mid-segment (issue 20, item 7): recovery sets the corrupt frame aside (a void
// frame, its bytes in quarantine/) and keeps every frame after it, in a sealed segment and in one
// left open by a crash. A torn tail, or a frame whose length is broken, is still cut as before.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { recoverWal } from '../src/wal/recovery';
import { FRAME_HEADER_BYTES, HEADER_BYTES } from '../src/wal/segment-format';
import { scanSegmentFile } from '../src/wal/segment-scanner';
import { QUARANTINE_DIR, SEGMENT_NAME, STATE_FILE } from '../src/wal/wal-files';
import { openWal, put, quietLog, record, tempDir } from './helpers/wal';
import { recordScenario } from './helpers/reliability';

const N = 200;
const SIZE = 300;

function segmentsOf(dir: string): string[] {
  return readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
}

/** Offset of record `i`'s frame in a segment of N equal records. */
function frameAt(i: number): number {
  return HEADER_BYTES + i * (FRAME_HEADER_BYTES + SIZE);
}

function ids(dir: string): number[] {
  const out: number[] = [];
  for (const name of segmentsOf(dir)) {
    const scan = scanSegmentFile(join(dir, name));
    if (typeof scan === 'string') throw new Error(scan);
    t.equal(scan.problem, null, `${name} reads clean`);
    for (const r of scan.records) out.push(Number(/^record-(\d+)-/.exec(r.payload.toString('latin1'))![1]));
  }
  return out;
}

function flip(path: string, offset: number, mask = 0x04): void {
  const b = readFileSync(path);
  b[offset] = b[offset]! ^ mask;
  writeFileSync(path, b);
}

/** A WAL with N records in one segment, sealed (closed) or left open (a copy taken while it runs). */
async function walWith(sealed: boolean): Promise<string> {
  const dir = tempDir();
  const wal = openWal(dir, { segmentBytes: 1024 * 1024 });
  for (let i = 0; i < N; i++) await put(wal, [record(i, SIZE)]);
  if (sealed) {
    await wal.close();
    return dir;
  }
  const copy = tempDir();
  for (const name of [...segmentsOf(dir).slice(0, 1), STATE_FILE]) copyFileSync(join(dir, name), join(copy, name));
  await wal.close();
  return copy;
}

for (const sealed of [true, false]) {
  t.test(`a flipped payload bit in a ${sealed ? 'sealed' : 'crashed open'} segment: that frame alone is set aside`, async (t) => {
    const dir = await walWith(sealed);
    const [name] = segmentsOf(dir);
    const path = join(dir, name!);
    const k = 57;
    flip(path, frameAt(k) + FRAME_HEADER_BYTES + 100);
    const report = recoverWal(dir, quietLog);
    t.equal(report.voidedFrames.length, 1, 'one frame set aside');
    t.equal(report.voidedFrames[0]!.offset, frameAt(k), 'at the corrupt frame');
    t.equal(report.voidedFrames[0]!.bytes, FRAME_HEADER_BYTES + SIZE);
    const expected = Array.from({ length: N }, (_, i) => i).filter((i) => i !== k);
    t.same(ids(dir), expected, `the ${N - 1} other records are kept, in order`);
    const scan = scanSegmentFile(path);
    if (typeof scan === 'string') throw new Error(scan);
    t.ok(scan.footer !== null, 'sealed with a footer that agrees');
    t.same(scan.voids.map((v) => v.offset), [frameAt(k)], 'the void frame is in the file');
    const saved = readFileSync(report.voidedFrames[0]!.savedTo);
    t.equal(saved.length, FRAME_HEADER_BYTES + SIZE, 'its original bytes are in quarantine/');
    t.match(saved.subarray(FRAME_HEADER_BYTES).toString('latin1'), new RegExp(`^record-${k}-`), 'the corrupt record itself');
    t.ok(readdirSync(join(dir, QUARANTINE_DIR)).some((n) => n.startsWith(name!) && !n.includes('.frame-')), 'and a copy of the segment as it was');
    // A second recovery finds nothing new to do.
    const again = recoverWal(dir, quietLog);
    t.equal(again.voidedFrames.length, 0, 'recovery again: nothing set aside');
    const kept = ids(dir);
    t.same(kept, expected, 'the same records');
    recordScenario({ id: sealed ? 'fault-flipped-bit' : 'fault-flipped-bit-open', group: 'fault', title: `One flipped payload bit mid-segment (${sealed ? 'sealed' : 'open, after a crash'}): recovery`, acknowledged: N, lost: N - 1 - kept.length, notes: 'the corrupt frame set aside (void, bytes in quarantine/), the other records kept' }, kept.length === N - 1);
  });
}

t.test('a torn last frame (no frame after it) is cut, as before', async (t) => {
  const dir = await walWith(false);
  const path = join(dir, segmentsOf(dir)[0]!);
  flip(path, frameAt(N - 1) + FRAME_HEADER_BYTES + 10);
  const report = recoverWal(dir, quietLog);
  t.equal(report.voidedFrames.length, 0, 'nothing set aside');
  t.equal(report.recovered[0]!.cutAt, frameAt(N - 1), 'cut at the torn frame');
  t.same(ids(dir), Array.from({ length: N - 1 }, (_, i) => i), 'the records before it are kept');
});

t.test('a frame whose length is broken: cut there, as before', async (t) => {
  const dir = await walWith(true);
  const path = join(dir, segmentsOf(dir)[0]!);
  flip(path, frameAt(100) + 5, 0x10);
  const report = recoverWal(dir, quietLog);
  t.equal(report.voidedFrames.length, 0, 'nothing set aside: the next frame cannot be found');
  t.same(ids(dir), Array.from({ length: 100 }, (_, i) => i), 'the records before it are kept');
  t.ok(report.quarantined.length >= 1, 'the original is in quarantine/');
});
