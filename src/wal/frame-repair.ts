/**
 * Sets corrupt frames aside instead of cutting everything after them. A frame whose CRC fails
 * (one flipped bit in its payload) while its length and kind still read is turned into a void
 * frame (kind 3, CRC made valid) when the walk then reaches a clean end: the end marker of an
 * open segment, or, for a sealed one, its footer counting exactly the records plus the frames
 * set aside. Anything else (a torn tail, a length that points into stale bytes of a recycled
 * file, which end at an old footer that is not the file's end) is left for recovery to cut, as
 * before. The original bytes of each frame go to the caller, which keeps them in quarantine/.
 */
import { crc32c } from '@node-rs/crc32';
import { FRAME_HEADER_BYTES, FrameKind } from './segment-format';
import { type CorruptFrame, scanSegmentBuffer, type SegmentScan } from './segment-scanner';

export interface VoidedFrame extends CorruptFrame {
  /** The frame's bytes before it was voided. */
  original: Buffer;
}

export interface RepairResult {
  scan: SegmentScan;
  voided: VoidedFrame[];
}

/** Rewrites the frame at `offset` as a void frame: same length and payload, kind 3, a valid CRC. */
export function markVoid(buf: Buffer, offset: number, bytes: number): void {
  buf[offset + 8] = FrameKind.Void;
  buf.writeUInt32LE(crc32c(buf.subarray(offset + 4, offset + bytes)), offset);
}

/** True when nothing is wrong with the segment once `voids` frames are set aside. */
function clean(scan: SegmentScan, voids: number): boolean {
  if (scan.problem === null) return true;
  const f = scan.disagreeingFooter;
  return f !== null && f.records === scan.records.length + voids;
}

/**
 * Voids the corrupt frames of a segment held in `buf` (changed in place), at most `maxFrames`.
 * When the result would not be clean, every change is undone and the scan is the original one.
 */
export function voidCorruptFrames(buf: Buffer, scan: SegmentScan, maxFrames: number): RepairResult {
  const voided: VoidedFrame[] = [];
  let current = scan;
  while (current.corrupt !== null && voided.length < maxFrames) {
    const c = current.corrupt;
    // A real frame must follow: an end marker right after could as well be a torn last append.
    if (c.offset + c.bytes + FRAME_HEADER_BYTES > buf.length || buf.readUInt32LE(c.offset + c.bytes + 4) === 0) break;
    voided.push({ ...c, original: Buffer.from(buf.subarray(c.offset, c.offset + c.bytes)) });
    markVoid(buf, c.offset, c.bytes);
    const next = scanSegmentBuffer(buf);
    if (typeof next === 'string') break;
    current = next;
  }
  if (voided.length > 0 && clean(current, voided.length)) return { scan: current, voided };
  for (const v of voided) v.original.copy(buf, v.offset);
  return { scan, voided: [] };
}
