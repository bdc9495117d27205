/**
 * Reads a segment file frame by frame, checking every CRC: used by recovery, the shipper,
 * replay and inspect. A problem is reported with its byte offset, never thrown past the caller.
 */
import { crc32c } from '@node-rs/crc32';
import { readFileSync } from 'node:fs';
import {
  FOOTER_PAYLOAD_BYTES, FooterAccumulator, FRAME_HEADER_BYTES, FrameKind, HEADER_BYTES, readFooterPayload, readHeader,
  type SegmentFooter, type SegmentHeader,
} from './segment-format';

export interface ScannedRecord {
  kind: FrameKind.Good | FrameKind.Bad;
  /** Offset of the frame in the file. */
  offset: number;
  payload: Buffer;
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
}

/** Scans a whole segment in memory. Returns a string when the header itself is unusable. */
export function scanSegmentBuffer(buf: Buffer): SegmentScan | string {
  const header = readHeader(buf);
  if (typeof header === 'string') return header;
  const records: ScannedRecord[] = [];
  const acc = new FooterAccumulator();
  let off = HEADER_BYTES;
  let footer: SegmentFooter | null = null;
  let problem: string | null = null;
  while (off < buf.length) {
    if (off + FRAME_HEADER_BYTES > buf.length) {
      if (buf.subarray(off).some((b) => b !== 0)) problem = `torn frame header at offset ${off}`;
      break;
    }
    const len = buf.readUInt32LE(off + 4);
    if (len === 0) {
      if (buf.readUInt32LE(off) !== 0 || buf[off + 8] !== 0) problem = `frame with zero length at offset ${off}`;
      break;
    }
    const end = off + FRAME_HEADER_BYTES + len;
    if (end > buf.length) {
      problem = `frame at offset ${off} runs past the end of the file (length ${len})`;
      break;
    }
    const crc = buf.readUInt32LE(off);
    if (crc32c(buf.subarray(off + 4, end)) !== crc) {
      problem = `CRC mismatch in the frame at offset ${off}`;
      break;
    }
    const kind = buf[off + 8]!;
    if (kind === FrameKind.Footer) {
      if (len !== FOOTER_PAYLOAD_BYTES) {
        problem = `footer at offset ${off} has length ${len}`;
        break;
      }
      const f = readFooterPayload(buf.subarray(off + FRAME_HEADER_BYTES, end));
      const mine = acc.footer();
      if (f.records !== mine.records || f.recordBytes !== mine.recordBytes || f.checksum !== mine.checksum) {
        problem = `footer at offset ${off} disagrees with the records (count ${f.records} vs ${mine.records})`;
        break;
      }
      if (end !== buf.length) {
        problem = `${buf.length - end} bytes after the footer at offset ${off}`;
        break;
      }
      footer = f;
      break;
    }
    if (kind !== FrameKind.Good && kind !== FrameKind.Bad) {
      problem = `unknown frame kind ${kind} at offset ${off}`;
      break;
    }
    records.push({ kind, offset: off, payload: buf.subarray(off + FRAME_HEADER_BYTES, end) });
    acc.add(crc, end - off, 0);
    off = end;
  }
  const validEnd = records.length === 0 ? HEADER_BYTES : records[records.length - 1]!.offset + FRAME_HEADER_BYTES + records[records.length - 1]!.payload.length;
  if (footer === null && problem === null && off >= buf.length && buf.length < header.capacity) {
    problem = `file cut at offset ${buf.length}: shorter than its capacity ${header.capacity} and no footer`;
  }
  return { header, records, validEnd, footer, problem };
}

export function scanSegmentFile(path: string): SegmentScan | string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return scanSegmentBuffer(buf);
}
