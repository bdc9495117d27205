/**
 * Start-up recovery of a WAL directory (also used by `sluice replay` on a dead instance's volume):
 * every segment is scanned and its CRCs checked; a segment left open by a crash keeps its valid
 * prefix and is sealed; a torn or corrupt tail is cut (the original file is first copied to
 * quarantine/); a segment whose header is unreadable is moved to quarantine/, never deleted.
 * Sequence numbers are never reused: the next one is above every number seen or ever allocated.
 */
import { closeSync, copyFileSync, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FOOTER_FRAME_BYTES, FooterAccumulator, FrameKind, footerPayload, FRAME_HEADER_BYTES, type SegmentFooter, type SegmentHeader } from './segment-format';
import { QUARANTINE_DIR, QUARANTINED_SEGMENT_NAME, SEGMENT_NAME, SPARE_NAME, STATE_TMP_FILE } from './wal-files';
import { scanSegmentBuffer } from './segment-scanner';
import { voidCorruptFrames, type VoidedFrame } from './frame-repair';
import { fsyncDir, newInstanceId, readWalState, writeWalState } from './wal-state';
import { crc32c } from '@node-rs/crc32';

export interface SealedSegment {
  seq: number;
  path: string;
  header: SegmentHeader;
  footer: SegmentFooter;
  /** File size. */
  bytes: number;
}

export interface RecoveryReport {
  instanceId: string;
  nextSeq: number;
  sealed: SealedSegment[];
  /** Segments found open (crash) and sealed now, with what was cut. */
  recovered: Array<{ seq: number; records: number; cutAt: number | null; problem: string | null }>;
  quarantined: Array<{ file: string; reason: string }>;
  removedEmpty: number[];
  /** Corrupt frames set aside (voided) so the frames after them are kept; their bytes in quarantine/. */
  voidedFrames: Array<{ seq: number; offset: number; bytes: number; savedTo: string }>;
}

/** Corrupt frames set aside per segment at most; beyond, the segment is cut at the first. */
const MAX_VOIDED_FRAMES = 64;


function quarantinePath(dir: string, name: string): string {
  const q = join(dir, QUARANTINE_DIR);
  mkdirSync(q, { recursive: true });
  return join(q, `${name}.${Date.now()}`);
}

/**
 * The time of a record's event (ms), or null when the record does not say. Frames carry no time:
 * the WAL asks the payload layer (CollectorPayload's timestamp) through this.
 */
export type EventTimeOf = (kind: FrameKind, payload: Buffer) => number | null;

/** Times of the first and last records that have one, else the segment's creation time. */
export function eventSpan(records: ReadonlyArray<{ kind: FrameKind; payload: Buffer }>, createdMs: number, timeOf: EventTimeOf | null): [number, number] {
  const at = (i: number): number | null => {
    try {
      return timeOf === null ? null : timeOf(records[i]!.kind, records[i]!.payload);
    } catch {
      return null;
    }
  };
  let first: number | null = null;
  for (let i = 0; i < records.length && first === null; i++) first = at(i);
  let last: number | null = null;
  for (let i = records.length - 1; i >= 0 && last === null; i--) last = at(i);
  return [first ?? createdMs, last ?? first ?? createdMs];
}

/** Writes a footer for the valid records and truncates the file after it. */
function sealInPlace(path: string, records: ReadonlyArray<{ kind: FrameKind; offset: number; payload: Buffer }>, validEnd: number, fileBytes: Buffer, span: [number, number]): SegmentFooter {
  const acc = new FooterAccumulator();
  for (const r of records) {
    acc.add(fileBytes.readUInt32LE(r.offset), FRAME_HEADER_BYTES + r.payload.length, span[0]);
  }
  acc.lastMs = span[1];
  const footer = acc.footer();
  const payload = footerPayload(footer);
  const frame = Buffer.alloc(FOOTER_FRAME_BYTES);
  frame.writeUInt32LE(payload.length, 4);
  frame[8] = FrameKind.Footer;
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(crc32c(frame.subarray(4)), 0);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, frame, 0, frame.length, validEnd);
    ftruncateSync(fd, validEnd + frame.length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return footer;
}

/**
 * Keeps a copy of the segment and each corrupt frame's bytes in quarantine/, then writes the void
 * frames' headers into the file and syncs it: the frames after them stay readable by everyone.
 */
function setAside(dir: string, name: string, path: string, bytes: Buffer, voided: readonly VoidedFrame[], report: RecoveryReport, seq: number, log: RecoveryLog): void {
  const copy = quarantinePath(dir, name);
  copyFileSync(path, copy);
  report.quarantined.push({ file: copy, reason: `original of a segment with ${voided.length} corrupt frame(s) set aside` });
  const fd = openSync(path, 'r+');
  try {
    for (const v of voided) {
      const savedTo = `${quarantinePath(dir, name)}.frame-${v.offset}`;
      writeFileSync(savedTo, v.original);
      // `bytes` holds the void frame's header already (voidCorruptFrames); only the header changed.
      writeSync(fd, bytes, v.offset, FRAME_HEADER_BYTES, v.offset);
      report.voidedFrames.push({ seq, offset: v.offset, bytes: v.bytes, savedTo });
      log.warn({ segment: name, offset: v.offset, bytes: v.bytes, savedTo }, 'WAL frame corrupt (CRC mismatch): set aside, the frames after it are kept');
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface RecoveryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Recovers a WAL directory. A segment left open is sealed with the event times of its first and
 * last records (`timeOf`; the segment's creation time when it cannot tell), so its objects land in
 * the hour of its events whoever ships it.
 */
export function recoverWal(dir: string, log: RecoveryLog, timeOf: EventTimeOf | null = null): RecoveryReport {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (SPARE_NAME.test(name)) rmSync(join(dir, name), { force: true });
  rmSync(join(dir, STATE_TMP_FILE), { force: true });
  const state = readWalState(dir);
  const report: RecoveryReport = { instanceId: state?.instanceId ?? '', nextSeq: state?.nextSeq ?? 0, sealed: [], recovered: [], quarantined: [], removedEmpty: [], voidedFrames: [] };
  let maxSeq = -1;
  let headerInstance: string | null = null;
  const names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const seq = Number(SEGMENT_NAME.exec(name)![1]);
    maxSeq = Math.max(maxSeq, seq);
    const bytes = readFileSync(path);
    let scan = scanSegmentBuffer(bytes);
    let repaired = false;
    if (typeof scan !== 'string' && scan.corrupt !== null) {
      const repair = voidCorruptFrames(bytes, scan, MAX_VOIDED_FRAMES);
      if (repair.voided.length > 0) {
        setAside(dir, name, path, bytes, repair.voided, report, seq, log);
        scan = repair.scan;
        repaired = true;
      }
    }
    if (typeof scan === 'string' || scan.header.seq !== seq) {
      const reason = typeof scan === 'string' ? scan : `header says sequence ${scan.header.seq}`;
      const to = quarantinePath(dir, name);
      renameSync(path, to);
      report.quarantined.push({ file: to, reason });
      log.warn({ segment: name, reason, movedTo: to }, 'WAL segment unreadable: quarantined');
      continue;
    }
    headerInstance ??= scan.header.instanceId;
    if (scan.footer !== null && scan.problem === null) {
      report.sealed.push({ seq, path, header: scan.header, footer: scan.footer, bytes: statSync(path).size });
      continue;
    }
    // Left open by a crash, or cut/corrupted: keep the CRC-valid prefix. (A sealed segment whose
    // corrupt frames were set aside is sealed again here: its footer counted them.)
    if (scan.problem !== null && !repaired) {
      const copy = quarantinePath(dir, name);
      copyFileSync(path, copy);
      report.quarantined.push({ file: copy, reason: `original of a recovered segment: ${scan.problem}` });
    }
    if (scan.records.length === 0) {
      rmSync(path);
      report.removedEmpty.push(seq);
      log.info({ segment: name, problem: scan.problem }, 'WAL segment had no records: removed');
      continue;
    }
    const footer = sealInPlace(path, scan.records, scan.validEnd, bytes, eventSpan(scan.records, scan.header.createdMs, timeOf));
    report.sealed.push({ seq, path, header: scan.header, footer, bytes: statSync(path).size });
    // A sealed segment sealed again after frames were set aside was not cut.
    const resealed = repaired && scan.disagreeingFooter !== null;
    const cutAt = scan.problem === null || resealed ? null : scan.validEnd;
    const problem = resealed ? null : scan.problem;
    report.recovered.push({ seq, records: scan.records.length, cutAt, problem });
    log.info({ segment: name, records: scan.records.length, cutAt, problem }, 'WAL segment recovered and sealed');
  }
  if (existsSync(join(dir, QUARANTINE_DIR))) {
    for (const q of readdirSync(join(dir, QUARANTINE_DIR))) {
      const m = QUARANTINED_SEGMENT_NAME.exec(q);
      if (m !== null) maxSeq = Math.max(maxSeq, Number(m[1]));
    }
  }
  report.instanceId = report.instanceId || headerInstance || newInstanceId();
  report.nextSeq = Math.max(report.nextSeq, maxSeq + 1);
  writeWalState(dir, { instanceId: report.instanceId, nextSeq: report.nextSeq });
  fsyncDir(dir);
  log.info({
    dir, instanceId: report.instanceId, nextSeq: report.nextSeq, sealed: report.sealed.length,
    records: report.sealed.reduce((n, s) => n + s.footer.records, 0), recovered: report.recovered.length, quarantined: report.quarantined.length,
  }, 'WAL recovery done');
  return report;
}
