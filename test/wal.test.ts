// The write-ahead log in process: appends, rolls, seals, recovery of torn and corrupt segments,
// sequence numbers, and the bounds that make it refuse records.
import t from 'tap';
import { copyFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { recoverWal } from '../src/wal/recovery';
import { crc32c } from '@node-rs/crc32';
import { crc32cWord, FrameKind, HEADER_BYTES, FRAME_HEADER_BYTES } from '../src/wal/segment-format';
import { SEGMENT_NAME, segmentFileName } from '../src/wal/wal-files';
import { scanSegmentFile } from '../src/wal/segment-scanner';
import { SegmentWriter } from '../src/wal/segment-writer';
import { prng } from './helpers/prng';
import { waitFor } from './helpers/wait';
import { openWal, put, quietLog, record, tempDir } from './helpers/wal';

const segments = (dir: string): string[] => readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
/**
 * A file's identity across renames: its inode number and birth time. The inode number alone
 * is not enough, since the file system hands a deleted file's number to the next file made
 * (a new spare), which would then pass for a recycled one.
 */
function fileId(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.ino}:${st.birthtimeNs}`;
}

/**
 * Names of the files in `dir` that are one of `ids`. The spare thread renames files while this
 * looks, so a listing in which a name vanished before its stat is taken again.
 */
function namesOf(dir: string, ids: Set<string>): string[] {
  for (let attempt = 0; attempt < 100; attempt++) {
    const names: string[] = [];
    let vanished = false;
    for (const n of readdirSync(dir)) {
      try {
        if (ids.has(fileId(join(dir, n)))) names.push(n);
      } catch {
        vanished = true;
        break;
      }
    }
    if (!vanished) return names;
  }
  throw new Error(`${dir} kept changing while it was listed`);
}

function allRecords(dir: string): string[] {
  return segments(dir).flatMap((n) => {
    const scan = scanSegmentFile(join(dir, n));
    if (typeof scan === 'string') throw new Error(scan);
    return scan.records.map((r) => `${r.kind}:${r.payload.toString()}`);
  });
}

t.test('the footer checksum step is crc32c of the CRC word as 4 little-endian bytes', async (t) => {
  const r = prng(7);
  const word = Buffer.alloc(4);
  const cases: Array<[number, number]> = [[0, 0], [0, 0xffffffff], [0xffffffff, 0], [0xffffffff, 0xffffffff], [1, 0x80000000]];
  for (let i = 0; i < 2000; i++) cases.push([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
  let mismatches = 0;
  for (const [state, crc] of cases) {
    word.writeUInt32LE(crc, 0);
    if (crc32cWord(state, crc) !== crc32c(word, state)) mismatches++;
  }
  t.equal(mismatches, 0, `${cases.length} (state, word) pairs agree with the native crc32c`);
  // A fold over several words equals one native crc32c over their bytes.
  const words = [0xdeadbeef, 0x01234567, 0, 0xfedcba98];
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => bytes.writeUInt32LE(w, i * 4));
  t.equal(words.reduce((s, w) => crc32cWord(s, w), 0), crc32c(bytes));
});

t.test('append, roll on size, seal on close', async (t) => {
  const dir = tempDir();
  // Two spares at start cover both rolls of the 300 records: this test is about the frames and
  // the footers, not about how fast the spare thread writes the next spare (wal-spare-pace.test.ts).
  const wal = openWal(dir, { segmentBytes: 64 * 1024, spareSegments: 2 });
  const sealed: number[] = [];
  wal.onSealed((s) => sealed.push(s.seq));
  const expected: string[] = [];
  for (let i = 0; i < 300; i++) {
    const good = [record(i, 500)];
    const bad = i % 50 === 0 ? [Buffer.from(`bad-${i}`)] : [];
    t.equal(await put(wal, good, bad), true);
    expected.push(`${FrameKind.Good}:${good[0]!.toString()}`, ...bad.map((b) => `${FrameKind.Bad}:${b.toString()}`));
  }
  t.ok(sealed.length >= 2, `rolled on size (${sealed.length} sealed)`);
  await wal.close();
  const names = segments(dir);
  for (const n of names) {
    const scan = scanSegmentFile(join(dir, n));
    if (typeof scan === 'string') { t.fail(scan); continue; }
    t.ok(scan.footer !== null, `${n} sealed with a valid footer`);
    t.equal(scan.problem, null);
    t.equal(statSync(join(dir, n)).size, scan.validEnd + 45, 'truncated after the footer');
    t.equal(scan.header.instanceId, wal.instanceId);
  }
  t.same(allRecords(dir), expected, 'every record once, in order, with its kind');
  t.notOk(readdirSync(dir).includes('spare.tmp'), 'no spare left behind');
  // Sequence numbers are reserved in blocks, so a roll does not rewrite (and sync) wal.state.
  const state = JSON.parse(readFileSync(join(dir, 'wal.state'), 'utf8')) as { nextSeq: number };
  const maxSeq = Math.max(...names.map((n) => Number(SEGMENT_NAME.exec(n)![1])));
  t.ok(state.nextSeq > maxSeq + 1, `wal.state reserves numbers ahead (${state.nextSeq} > ${maxSeq} + 1)`);
  const reopened = openWal(dir);
  t.equal(reopened.recovery.nextSeq, state.nextSeq, 'a restart continues after the reservation');
  await reopened.close();
});

t.test('the next segment waits named, headed and synced, so a roll renames nothing; unused, recovery removes it', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir, { segmentBytes: 64 * 1024 });
  const [open, next] = segments(dir);
  t.equal(segments(dir).length, 2, 'at start: the open segment and the next one');
  const scan = scanSegmentFile(join(dir, next!));
  t.ok(typeof scan !== 'string' && scan.header.seq === Number(SEGMENT_NAME.exec(next!)![1]) && scan.records.length === 0 && scan.problem === null,
    `${next} has its header and no records`);
  const inode = statSync(join(dir, next!)).ino;
  // Mapped at start already, so the first roll maps nothing (a new mapping starts a V8 GC).
  t.ok(readFileSync('/proc/self/maps', 'utf8').includes(join(dir, next!)), `${next} is mapped before the first roll`);
  const sealed: number[] = [];
  wal.onSealed((s) => sealed.push(s.seq));
  let refused = 0;
  for (let i = 0; sealed.length === 0 && i < 1000; i++) if (!(await put(wal, [record(i, 500)]))) refused++;
  t.equal(refused, 0, 'no record refused');
  t.same(sealed, [Number(SEGMENT_NAME.exec(open!)![1])], 'rolled once');
  t.equal(statSync(join(dir, next!)).ino, inode, `${next} took the appends under the name and inode it waited with`);
  t.ok(allRecords(dir).length > 0, 'records are stored');
  // A crash now (a copy of the directory): the spare that waits for the next roll is a segment
  // without records, which recovery removes; nothing is quarantined or lost.
  await waitFor('the next spare', async () => (segments(dir).length >= 3 ? true : null), 2000, 5);
  const copy = tempDir();
  for (const name of readdirSync(dir)) if (name !== 'quarantine') copyFileSync(join(dir, name), join(copy, name));
  const waiting = segments(copy).at(-1)!;
  const before = allRecords(copy);
  const report = recoverWal(copy, quietLog);
  t.same(report.removedEmpty, [Number(SEGMENT_NAME.exec(waiting)![1])], `the waiting ${waiting} is removed`);
  t.equal(report.quarantined.length, 0, 'nothing quarantined');
  t.same(allRecords(copy), before, 'every record kept');
  t.ok(report.nextSeq > Number(SEGMENT_NAME.exec(waiting)![1]), 'its sequence number is not reused');
  await wal.close();
});

t.test('roll on age', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir, { maxSegmentAgeMs: 200 });
  const sealed: number[] = [];
  wal.onSealed((s) => sealed.push(s.seq));
  await put(wal, [record(1)]);
  await new Promise((r) => setTimeout(r, 900));
  t.equal(sealed.length, 1, 'the segment rolled after maxSegmentAgeMs');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(sealed.length, 1, 'an empty segment does not roll');
  await wal.close();
});

t.test('torn and corrupt segments recover: a torn tail to its valid prefix, a corrupt frame set aside alone', async (t) => {
  // One open (unsealed) segment with records of varied sizes, as a crash leaves it.
  const src = tempDir();
  const capacity = 64 * 1024;
  const path = join(src, segmentFileName(7));
  writeFileSync(path, Buffer.alloc(capacity));
  const w = new SegmentWriter(path, { instanceId: '11111111-2222-4333-8444-555555555555', seq: 7, createdMs: Date.now(), capacity });
  const ends: number[] = [];
  let off = HEADER_BYTES;
  for (let i = 0; i < 40; i++) {
    const r = record(i, 20 + ((i * 37) % 400));
    w.append(FrameKind.Good, r, Date.now());
    off += FRAME_HEADER_BYTES + r.length;
    ends.push(off);
  }
  w.close();
  const original = readFileSync(path);
  const used = ends[ends.length - 1]!;
  const offsets = new Set<number>([HEADER_BYTES, HEADER_BYTES + 1, used - 1, used, used + 3, ends[10]!, ends[10]! + 1]);
  while (offsets.size < 40) offsets.add(HEADER_BYTES + Math.floor(Math.random() * (used + 40 - HEADER_BYTES)));
  const tried: string[] = [];
  for (const at of [...offsets].sort((a, b) => a - b)) {
    for (const mode of ['cut', 'corrupt'] as const) {
      const dir = tempDir();
      const file = join(dir, segmentFileName(7));
      const bytes = Buffer.from(original);
      if (mode === 'corrupt') {
        bytes[at] = bytes[at]! ^ 0x5a;
        writeFileSync(file, bytes);
      } else {
        writeFileSync(file, bytes.subarray(0, at));
      }
      const report = recoverWal(dir, quietLog);
      // Cut, or a broken length or kind: the records before the damage. A flipped CRC or payload
      // byte: that frame alone is set aside (or cut, when it is the last), the rest kept. A length
      // that happens to point at a later frame sets the frames it spans aside together.
      const prefix = ends.filter((e) => e <= at).length;
      const frame = ends.findIndex((e) => e > at);
      const rel = frame < 0 ? -1 : at - (frame === 0 ? HEADER_BYTES : ends[frame - 1]!);
      const setAside = mode === 'corrupt' && frame >= 0 && (rel < 4 || rel >= FRAME_HEADER_BYTES);
      const lengthHit = mode === 'corrupt' && rel >= 4 && rel < 8;
      const expected = setAside ? 39 : prefix;
      const kept = segments(dir).length === 0 ? 0 : (scanSegmentFile(file) as { records: unknown[]; footer: unknown }).records.length;
      tried.push(`${mode}@${at}`);
      if (lengthHit ? kept < prefix || kept > 39 : kept !== expected) t.fail(`${mode} at offset ${at}: kept ${kept}, expected ${lengthHit ? `${prefix}..39` : expected}`);
      if (kept > 0) {
        const scan = scanSegmentFile(file);
        if (typeof scan === 'string' || scan.footer === null) t.fail(`${mode} at ${at}: not sealed after recovery`);
      }
      if (expected < 40 && (mode === 'cut' || at < used)) {
        t.ok(report.quarantined.length === 1, `${mode} at ${at}: the original is kept in quarantine`);
      }
      t.ok(report.nextSeq >= 8, 'next sequence above the recovered one');
    }
  }
  t.pass(`offsets tried: ${tried.join(' ')}`);
});

t.test('an unreadable header is quarantined, never deleted', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir);
  await put(wal, [record(1)]);
  await wal.close();
  const [name] = segments(dir);
  const file = join(dir, name!);
  const bytes = readFileSync(file);
  bytes[3] = 0;
  writeFileSync(file, bytes);
  const report = recoverWal(dir, quietLog);
  t.equal(segments(dir).length, 0, 'moved out of the WAL');
  t.equal(report.quarantined.length, 1);
  t.match(report.quarantined[0]!.reason, /wrong magic/);
  t.ok(readFileSync(report.quarantined[0]!.file).equals(bytes), 'quarantined file is the original');
  const next = openWal(dir);
  t.ok(next.recovery.nextSeq > Number(SEGMENT_NAME.exec(name!)![1]), 'its sequence number is not reused');
  await next.close();
});

t.test('sequence numbers are never reused', async (t) => {
  const dir = tempDir();
  let wal = openWal(dir);
  await put(wal, [record(1)]);
  await wal.close();
  const first = segments(dir);
  for (const n of first) truncateSync(join(dir, n), 0);
  const { rmSync } = await import('node:fs');
  for (const n of first) rmSync(join(dir, n));
  wal = openWal(dir);
  await put(wal, [record(2)]);
  await wal.close();
  const second = segments(dir);
  t.equal(second.length, 1);
  t.ok(second[0]! > first[first.length - 1]!, `${second[0]} comes after ${first.join(',')}`);
  t.equal(JSON.parse(readFileSync(join(dir, 'wal.state'), 'utf8')).instanceId, wal.instanceId, 'instance id kept');
});

t.test('a crashed open segment is sealed at start', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir);
  for (let i = 0; i < 10; i++) await put(wal, [record(i)]);
  // Simulate a crash: copy the directory as it is, without closing.
  const copy = tempDir();
  for (const n of readdirSync(dir)) if (n !== 'spare.tmp') copyFileSync(join(dir, n), join(copy, n));
  await wal.close();
  const again = openWal(copy);
  t.equal(again.recovery.recovered.length, 1, 'the open segment was recovered');
  t.equal(again.recovery.recovered[0]!.records, 10);
  t.equal(again.recovery.recovered[0]!.cutAt, null, 'nothing cut from a clean tail');
  t.equal(again.recovery.quarantined.length, 0);
  await again.close();
  t.equal(allRecords(copy).length, 10);
});

t.test('bounds: pending records, unshipped bytes, sync latency', async (t) => {
  const dir = tempDir();
  let delay = 300;
  const wal = openWal(dir, { maxPendingRecords: 3, maxSyncLatencyMs: 200, syncDelayMs: () => delay });
  const first = [put(wal, [record(1)]), put(wal, [record(2)]), put(wal, [record(3)])];
  t.equal(await put(wal, [record(4)]), false, 'maxPendingRecords reached: refused');
  t.same(await Promise.all(first), [true, true, true], 'the pending ones complete');
  t.match(wal.refusal(), /the last WAL sync took \d+ ms \(bound 200 ms\)/, 'a slow sync makes the WAL refuse');
  t.equal(await put(wal, [record(5)]), false, 'refused while syncs are slow');
  delay = 0;
  (wal as unknown as { commit: { stats: { lastSyncMs: number } } }).commit.stats.lastSyncMs = 0;
  t.equal(wal.refusal(), null, 'accepts again once syncs are fast');
  t.equal(await put(wal, [record(6)]), true);
  await wal.close();

  const capped = openWal(tempDir(), { maxUnshippedBytes: 20_000 });
  let accepted = 0;
  while (await put(capped, [record(accepted, 1000)])) accepted++;
  t.ok(accepted >= 15 && accepted <= 25, `accepted ${accepted} records of 1 KB under a 20 KB cap`);
  t.match(capped.refusal(), /unshipped WAL bytes \d+ exceed the cap of 20000/);
  for (const s of [...capped.sealedSegments()]) capped.release(s.seq);
  await capped.close();
});

t.test('an open WAL does not keep the process alive (its spare-segment thread is unref\'d)', async (t) => {
  const dir = tempDir();
  const code = `const { WriteAheadLog } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'wal', 'write-ahead-log.js'))});
    WriteAheadLog.open({ dir: ${JSON.stringify(dir)}, durability: 'fsync', segmentBytes: 1024 * 1024, maxSegmentAgeMs: 1000, maxPendingRecords: 100,
      maxUnshippedBytes: 1e9, minFreeBytes: 0, maxSyncLatencyMs: 1000, spareSegments: 1, recycleSegments: 2, log: { info() {}, warn() {}, error() {} } });`;
  const r = spawnSync(process.execPath, ['-e', code], { timeout: 10_000, encoding: 'utf8' });
  t.equal(r.error, undefined, 'the process exited by itself');
  t.equal(r.status, 0, r.stderr);
});

t.test('shipped segments are recycled as spares, at most recycleSegments, and never show old records', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir, { segmentBytes: 64 * 1024, recycleSegments: 2 });
  let n = 0;
  let written: string[] = [];
  const write = async (count: number, size: number): Promise<void> => {
    for (let i = 0; i < count; i++, n++) {
      const r = record(n, size);
      // A roll can find the next spare not written yet: the WAL refuses (503) until it is.
      let tries = 0;
      while (!(await put(wal, [r]))) {
        if (++tries > 200) { t.fail(`record ${n} refused for a second: ${wal.refusal()}`); return; }
        await new Promise((res) => setTimeout(res, 5));
      }
      written.push(`${FrameKind.Good}:${r.toString()}`);
    }
  };
  // Big records first, so a recycled file holds old frames well past where the new ones end.
  await write(300, 900);
  const first = [...wal.sealedSegments()];
  t.ok(first.length >= 4, `${first.length} segments sealed`);
  const firstFiles = new Set(first.map((s) => fileId(s.path)));
  for (const s of first) wal.release(s.seq);
  t.equal(wal.counters.segmentsRecycled, 2, 'two of the released segments kept as spares');
  t.equal(namesOf(dir, firstFiles).length, 2, 'the others are deleted');
  // Once prepared again, a recycled file waits under the name of the segment it becomes next.
  await waitFor('the recycled spares', async () => (readdirSync(dir).some((x) => x.endsWith('.tmp')) ? null : true), 2000, 5);
  const kept = namesOf(dir, firstFiles);
  t.ok(kept.every((x) => SEGMENT_NAME.test(x)), `ready under segment names (${kept.join(', ')})`);
  for (const x of kept) {
    const scan = scanSegmentFile(join(dir, x));
    t.ok(typeof scan !== 'string' && scan.records.length === 0 && scan.problem === null && scan.header.seq === Number(SEGMENT_NAME.exec(x)![1]), `${x}: its own header, no records`);
  }
  // From here on, every record in the directory is checked (the released ones count as shipped).
  written = allRecords(dir);
  const openIsRecycled = (): boolean => {
    const names = segments(dir);
    return firstFiles.has(fileId(join(dir, names[names.length - 1]!)));
  };
  // Small records until a recycled file is the open segment, then a few more in it.
  for (let i = 0; i < 2000 && !openIsRecycled(); i++) await write(1, 300);
  t.ok(openIsRecycled(), 'a recycled file became the open segment');
  await write(5, 300);
  // A recycled file is not zero-filled again: its old frames stay behind the end marker.
  const openName = segments(dir).at(-1)!;
  const openScan = scanSegmentFile(join(dir, openName));
  if (typeof openScan === 'string') throw new Error(openScan);
  const behind = readFileSync(join(dir, openName)).subarray(openScan.validEnd);
  t.ok(behind.subarray(0, FRAME_HEADER_BYTES).every((b) => b === 0), 'an end marker follows the last record');
  t.ok(behind.subarray(FRAME_HEADER_BYTES).some((b) => b !== 0), 'and old bytes of the file\'s earlier life lie behind it');
  // A crash now: the open segment as it is on disk must hold only its own records, not the
  // larger frames its file held before.
  const copy = tempDir();
  for (const name of segments(dir)) copyFileSync(join(dir, name), join(copy, name));
  copyFileSync(join(dir, 'wal.state'), join(copy, 'wal.state'));
  const atCrash = [...written];
  const reusedNow = (): string[] => segments(dir).filter((s) => firstFiles.has(fileId(join(dir, s))));
  for (let i = 0; i < 3000 && reusedNow().length < 2; i++) await write(1, 300);
  await write(5, 300);
  const reused = reusedNow();
  t.equal(reused.length, 2, `both recycled files were used again (${reused.join(', ')})`);
  await wal.close();
  t.same(allRecords(dir), written, 'every record once, in order; nothing from the files\' earlier lives');
  const crashed = openWal(copy);
  t.equal(crashed.recovery.recovered.length, 1, 'the open segment of the copy is recovered');
  t.equal(crashed.recovery.recovered[0]!.cutAt, null, 'its data ends cleanly (at its end marker)');
  t.equal(crashed.recovery.quarantined.length, 0, 'nothing quarantined');
  await crashed.close();
  t.same(allRecords(copy), atCrash, 'the crash copy recovers exactly the records written before it');
  t.same(readdirSync(dir).filter((x) => x.endsWith('.tmp')), [], 'no spare left after close');

  const none = openWal(tempDir(), { segmentBytes: 64 * 1024, recycleSegments: 0 });
  for (let i = 0; i < 100; i++) await put(none, [record(i, 900)]);
  for (const s of [...none.sealedSegments()]) none.release(s.seq);
  t.equal(none.counters.segmentsRecycled, 0, 'recycleSegments 0: every shipped segment is deleted');
  await none.close();
});

t.test('recovery removes spare files', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir);
  await put(wal, [record(1)]);
  await wal.close();
  writeFileSync(join(dir, 'spare.tmp'), Buffer.alloc(1024));
  writeFileSync(join(dir, 'spare-00042.tmp'), Buffer.alloc(1024));
  const again = openWal(dir);
  t.notOk(readdirSync(dir).includes('spare-00042.tmp'), 'a recycled spare left by a crash is removed');
  await again.close();
  t.same(readdirSync(dir).filter((x) => x.endsWith('.tmp')), []);
});
