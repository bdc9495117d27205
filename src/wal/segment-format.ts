/**
 * WAL segment layout (little-endian throughout).
 *
 *   header (64 bytes)
 *     0  8  magic "SLUICEWL"
 *     8  2  format version (1)
 *    10  2  header length (64)
 *    12  4  reserved, 0
 *    16 16  instance id (UUID bytes)
 *    32  8  sequence number
 *    40  8  creation time, ms since the epoch
 *    48  8  capacity: the preallocated file size
 *    56  4  reserved, 0
 *    60  4  CRC32C of bytes 0..59
 *   frames, from offset 64
 *     0  4  CRC32C of bytes 4..(9+length) of the frame
 *     4  4  length of the payload (> 0)
 *     8  1  kind: 1 good record, 2 bad row, 3 void (a frame recovery found corrupt, its bytes
 *              kept and quarantined, its CRC made valid again; readers skip it), 255 footer
 *     9  …  payload
 *   an end marker (a frame header of 9 zero bytes) ends the data of an open segment: every append
 *   writes one right after its frame, so it is synced with the frame. After it a fresh file holds
 *   zeros and a recycled one the frames of its earlier life, never read: the scan stops at the
 *   marker. A sealed segment ends with a footer frame and the file is truncated right after it:
 *   footer payload (36 bytes): record count u64, record frame bytes u64, checksum u32 (CRC32C over
 *   the CRC words of every record frame, in order), first and last append time u64 (ms).
 */
import { crc32c } from '@node-rs/crc32';

export const MAGIC = Buffer.from('SLUICEWL', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
export const FRAME_HEADER_BYTES = 9;
export const FOOTER_PAYLOAD_BYTES = 36;
export const FOOTER_FRAME_BYTES = FRAME_HEADER_BYTES + FOOTER_PAYLOAD_BYTES;

export enum FrameKind {
  Good = 1,
  Bad = 2,
  Void = 3,
  Footer = 255,
}

export interface SegmentHeader {
  instanceId: string;
  seq: number;
  createdMs: number;
  capacity: number;
}

export interface SegmentFooter {
  records: number;
  recordBytes: number;
  checksum: number;
  firstMs: number;
  lastMs: number;
}

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function writeHeader(buf: Buffer, h: SegmentHeader): void {
  buf.fill(0, 0, HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt16LE(HEADER_BYTES, 10);
  uuidToBytes(h.instanceId).copy(buf, 16);
  buf.writeBigUInt64LE(BigInt(h.seq), 32);
  buf.writeBigUInt64LE(BigInt(h.createdMs), 40);
  buf.writeBigUInt64LE(BigInt(h.capacity), 48);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60);
}

/** The header, or a description of what is wrong with it. */
export function readHeader(buf: Buffer): SegmentHeader | string {
  if (buf.length < HEADER_BYTES) return `file too short for a header (${buf.length} bytes)`;
  if (!buf.subarray(0, 8).equals(MAGIC)) return 'wrong magic';
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) return `unsupported format version ${version}`;
  if (buf.readUInt16LE(10) !== HEADER_BYTES) return 'unexpected header length';
  if (buf.readUInt32LE(60) !== crc32c(buf.subarray(0, 60))) return 'header checksum mismatch';
  return {
    instanceId: bytesToUuid(buf.subarray(16, 32)),
    seq: Number(buf.readBigUInt64LE(32)),
    createdMs: Number(buf.readBigUInt64LE(40)),
    capacity: Number(buf.readBigUInt64LE(48)),
  };
}

/** Writes the end marker (FRAME_HEADER_BYTES zeros) at `off`: the data ends there for now. */
export function writeEndMarker(buf: Buffer, off: number): void {
  for (let i = 0; i < FRAME_HEADER_BYTES; i++) buf[off + i] = 0;
}

/** Writes one frame at `off`; returns the frame's CRC. */
export function writeFrame(buf: Buffer, off: number, kind: FrameKind, payload: Uint8Array): number {
  buf.writeUInt32LE(payload.length, off + 4);
  buf[off + 8] = kind;
  buf.set(payload, off + FRAME_HEADER_BYTES);
  const crc = crc32c(buf.subarray(off + 4, off + FRAME_HEADER_BYTES + payload.length));
  buf.writeUInt32LE(crc, off);
  return crc;
}

export function footerPayload(f: SegmentFooter): Buffer {
  const p = Buffer.alloc(FOOTER_PAYLOAD_BYTES);
  p.writeBigUInt64LE(BigInt(f.records), 0);
  p.writeBigUInt64LE(BigInt(f.recordBytes), 8);
  p.writeUInt32LE(f.checksum, 16);
  p.writeBigUInt64LE(BigInt(f.firstMs), 20);
  p.writeBigUInt64LE(BigInt(f.lastMs), 28);
  return p;
}

export function readFooterPayload(p: Buffer): SegmentFooter {
  return {
    records: Number(p.readBigUInt64LE(0)),
    recordBytes: Number(p.readBigUInt64LE(8)),
    checksum: p.readUInt32LE(16),
    firstMs: Number(p.readBigUInt64LE(20)),
    lastMs: Number(p.readBigUInt64LE(28)),
  };
}

/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of each byte value. */
const CRC32C_TABLE = ((): Int32Array => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * `crc32c(word as 4 little-endian bytes, state)`: the footer's checksum step, once per record. In
 * JavaScript because four table steps cost less than a native call with its Buffer argument.
 */
export function crc32cWord(state: number, word: number): number {
  let c = ~state;
  c = CRC32C_TABLE[(c ^ word) & 0xff]! ^ (c >>> 8);
  c = CRC32C_TABLE[(c ^ (word >>> 8)) & 0xff]! ^ (c >>> 8);
  c = CRC32C_TABLE[(c ^ (word >>> 16)) & 0xff]! ^ (c >>> 8);
  c = CRC32C_TABLE[(c ^ (word >>> 24)) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Running state of a segment's footer while records are appended. */
export class FooterAccumulator {
  records = 0;
  recordBytes = 0;
  checksum = 0;
  firstMs = 0;
  lastMs = 0;

  add(crc: number, frameBytes: number, nowMs: number): void {
    if (this.records === 0) this.firstMs = nowMs;
    this.lastMs = nowMs;
    this.records++;
    this.recordBytes += frameBytes;
    this.checksum = crc32cWord(this.checksum, crc);
  }

  footer(): SegmentFooter {
    return { records: this.records, recordBytes: this.recordBytes, checksum: this.checksum, firstMs: this.firstMs, lastMs: this.lastMs };
  }
}
