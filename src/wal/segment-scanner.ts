/**
 * Reads a segment file frame by frame, checking every CRC: used by recovery, the shipper,
 * replay and inspect. A problem is reported with its byte offset, never thrown past the caller.
 * The shipper streams a segment through a bounded chunk (withSegmentFile); the tools and recovery
 * scan a file held whole in memory (scanSegmentBuffer). Both walk the frames with walkSegment.
 */
import { crc32c } from '@node-rs/crc32';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import {
  FOOTER_FRAME_BYTES, FOOTER_PAYLOAD_BYTES, FooterAccumulator, FRAME_HEADER_BYTES, FrameKind, HEADER_BYTES, readFooterPayload, readHeader,
  type SegmentFooter, type SegmentHeader,
} from './segment-format';

export interface ScannedRecord {
  kind: FrameKind.Good | FrameKind.Bad;
  /** Offset of the frame in the file. */
  offset: number;
  payload: Buffer;
}

/** Where a walk stopped on a frame whose CRC fails (its length and kind readable), for repair. */
export interface CorruptFrame {
  offset: number;
  /** The whole frame: header and payload. */
  bytes: number;
}

export interface SegmentScan {
  header: SegmentHeader;
  /** Valid record frames, in order. */
  records: ScannedRecord[];
  /** Offset just after the last valid record frame. */
  validEnd: number;
  /** The footer when the segment is sealed and the footer agrees with the records. */
  footer: SegmentFooter | null;
  /** Why the data stops before a footer or a clean end marker, with the offset; null when clean. */
  problem: string | null;
  /** The frame the walk stopped at when the problem is its CRC alone. */
  corrupt: CorruptFrame | null;
  /** Void frames skipped (corrupt frames recovery set aside). */
  voids: CorruptFrame[];
  /** A footer whose CRC holds but whose counts disagree with the records (see frame-repair). */
  disagreeingFooter: SegmentFooter | null;
}

/**
 * A segment's bytes by offset: the whole file in memory (SegmentBuffer), or read from the file in
 * bounded chunks (SegmentFileReader).
 */
export interface SegmentBytes {
  /** The file's length. */
  readonly length: number;
  /** `len` bytes at `off` (within the length); valid until the next call. */
  at(off: number, len: number): Buffer;
}

class SegmentBuffer implements SegmentBytes {
  constructor(private readonly buf: Buffer) {}

  get length(): number {
    return this.buf.length;
  }

  at(off: number, len: number): Buffer {
    return this.buf.subarray(off, off + len);
  }
}

/**
 * Reads a segment file through one buffer of `chunkBytes` (grown only for a frame longer than
 * that), so scanning a segment of any size takes one chunk of memory, not the whole file.
 */
export class SegmentFileReader implements SegmentBytes {
  readonly length: number;
  private buf: Buffer;
  /** File offset of buf[0], and how many bytes of buf hold file data. */
  private start = 0;
  private filled = 0;

  constructor(private readonly fd: number, readonly chunkBytes: number) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < FRAME_HEADER_BYTES) throw new Error(`chunk of ${chunkBytes} bytes is too small`);
    this.length = fstatSync(fd).size;
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /**
   * Keeps what the buffer holds before file offset `end` only: a reader tailing an open segment
   * reads past the durable end into its chunk, and those bytes change with later appends.
   */
  keepBefore(end: number): void {
    this.filled = Math.max(0, Math.min(this.filled, end - this.start));
  }

  /** Bytes of buffer held now (the chunk, or more after a long frame). */
  get bufferBytes(): number {
    return this.buf.length;
  }

  at(off: number, len: number): Buffer {
    if (off < 0 || len < 0 || off + len > this.length) throw new RangeError(`bytes ${off}..${off + len} are outside the file (${this.length} bytes)`);
    if (off < this.start || off + len > this.start + this.filled) this.load(off, len);
    return this.buf.subarray(off - this.start, off - this.start + len);
  }

  /** Reads from `off`: at least `len` bytes, as much of a chunk as the file has. */
  private load(off: number, len: number): void {
    if (len > this.buf.length) this.buf = Buffer.allocUnsafe(len);
    const want = Math.min(this.buf.length, this.length - off);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, this.buf, got, want - got, off + got);
      if (n === 0) throw new Error(`file ended at ${off + got} while reading ${want} bytes at ${off}`);
      got += n;
    }
    this.start = off;
    this.filled = got;
  }
}

/** What a walk over a segment's frames found, besides the records it handed out. */
export interface SegmentWalk {
  header: SegmentHeader;
  records: number;
  /** Offset just after the last valid record (or void) frame. */
  validEnd: number;
  footer: SegmentFooter | null;
  problem: string | null;
  corrupt: CorruptFrame | null;
  voids: CorruptFrame[];
  disagreeingFooter: SegmentFooter | null;
}

/**
 * Hands out a record frame's payload; the payload is only valid during the call (a reader's
 * chunk is reused): keep a copy, not the view.
 */
export type RecordVisitor = (kind: FrameKind.Good | FrameKind.Bad, offset: number, payload: Buffer) => void;

/** Walks a segment frame by frame, checking every CRC. Returns a string when the header is unusable. */
export function walkSegment(src: SegmentBytes, visit: RecordVisitor): SegmentWalk | string {
  const size = src.length;
  const header = readHeader(src.at(0, Math.min(size, HEADER_BYTES)));
  if (typeof header === 'string') return header;
  const acc = new FooterAccumulator();
  let off = HEADER_BYTES;
  let validEnd = HEADER_BYTES;
  let footer: SegmentFooter | null = null;
  let problem: string | null = null;
  let corrupt: CorruptFrame | null = null;
  let disagreeingFooter: SegmentFooter | null = null;
  const voids: CorruptFrame[] = [];
  while (off < size) {
    if (off + FRAME_HEADER_BYTES > size) {
      if (src.at(off, size - off).some((b) => b !== 0)) problem = `torn frame header at offset ${off}`;
      break;
    }
    const head = src.at(off, FRAME_HEADER_BYTES);
    const crc = head.readUInt32LE(0);
    const len = head.readUInt32LE(4);
    const kind = head[8]!;
    if (len === 0) {
      if (crc !== 0 || kind !== 0) problem = `frame with zero length at offset ${off}`;
      break;
    }
    const end = off + FRAME_HEADER_BYTES + len;
    if (end > size) {
      problem = `frame at offset ${off} runs past the end of the file (length ${len})`;
      break;
    }
    const frame = src.at(off, FRAME_HEADER_BYTES + len);
    if (crc32c(frame.subarray(4)) !== crc) {
      problem = `CRC mismatch in the frame at offset ${off}`;
      if (kind === FrameKind.Good || kind === FrameKind.Bad) corrupt = { offset: off, bytes: end - off };
      break;
    }
    if (kind === FrameKind.Void) {
      voids.push({ offset: off, bytes: end - off });
      off = end;
      validEnd = end;
      continue;
    }
    if (kind === FrameKind.Footer) {
      if (len !== FOOTER_PAYLOAD_BYTES) {
        problem = `footer at offset ${off} has length ${len}`;
        break;
      }
      const f = readFooterPayload(frame.subarray(FRAME_HEADER_BYTES));
      const mine = acc.footer();
      if (f.records !== mine.records || f.recordBytes !== mine.recordBytes || f.checksum !== mine.checksum) {
        problem = `footer at offset ${off} disagrees with the records (count ${f.records} vs ${mine.records})`;
        if (end === size) disagreeingFooter = f;
        break;
      }
      if (end !== size) {
        problem = `${size - end} bytes after the footer at offset ${off}`;
        break;
      }
      footer = f;
      break;
    }
    if (kind !== FrameKind.Good && kind !== FrameKind.Bad) {
      problem = `unknown frame kind ${kind} at offset ${off}`;
      break;
    }
    visit(kind, off, frame.subarray(FRAME_HEADER_BYTES));
    acc.add(crc, end - off, 0);
    off = end;
    validEnd = end;
  }
  if (footer === null && problem === null && off >= size && size < header.capacity) {
    problem = `file cut at offset ${size}: shorter than its capacity ${header.capacity} and no footer`;
  }
  return { header, records: acc.records, validEnd, footer, problem, corrupt, voids, disagreeingFooter };
}

/**
 * The footer at the end of a sealed segment (read first, for the time it carries), or null when
 * the file does not end with a footer frame whose CRC holds. It is only checked against the records
 * by walkSegment.
 */
export function trailingFooter(src: SegmentBytes): SegmentFooter | null {
  if (src.length < HEADER_BYTES + FOOTER_FRAME_BYTES) return null;
  const frame = src.at(src.length - FOOTER_FRAME_BYTES, FOOTER_FRAME_BYTES);
  if (frame.readUInt32LE(4) !== FOOTER_PAYLOAD_BYTES || frame[8] !== FrameKind.Footer) return null;
  if (crc32c(frame.subarray(4)) !== frame.readUInt32LE(0)) return null;
  return readFooterPayload(frame.subarray(FRAME_HEADER_BYTES));
}

/** Scans a whole segment in memory. Returns a string when the header itself is unusable. */
export function scanSegmentBuffer(buf: Buffer): SegmentScan | string {
  const records: ScannedRecord[] = [];
  const walk = walkSegment(new SegmentBuffer(buf), (kind, offset, payload) => records.push({ kind, offset, payload }));
  if (typeof walk === 'string') return walk;
  return { header: walk.header, records, validEnd: walk.validEnd, footer: walk.footer, problem: walk.problem, corrupt: walk.corrupt, voids: walk.voids, disagreeingFooter: walk.disagreeingFooter };
}

function cannotRead(e: unknown): string {
  return `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
}

/**
 * Opens a segment file, hands `use` a SegmentFileReader of `chunkBytes` on it and closes it
 * afterwards. Returns a string when the file cannot be opened.
 */
export function withSegmentFile<T extends object>(path: string, chunkBytes: number, use: (reader: SegmentFileReader) => T): T | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return cannotRead(e);
  }
  try {
    return use(new SegmentFileReader(fd, chunkBytes));
  } finally {
    closeSync(fd);
  }
}

export function scanSegmentFile(path: string): SegmentScan | string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return cannotRead(e);
  }
  return scanSegmentBuffer(buf);
}
