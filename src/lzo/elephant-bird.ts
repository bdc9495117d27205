/**
 * elephant-bird block framing, as the Snowplow S3 Loader writes raw records (RawBlockWriter):
 * a 16-byte marker, the little-endian length of a protobuf SerializedBlock, then the message
 * { 1: version = 1, 2: proto_class_name = "byte[]", 3: one blob per record }, 100 records a block.
 */

export const BLOCK_MARKER = Buffer.from([0x29, 0xd8, 0xd5, 0x06, 0x58, 0xcd, 0x4c, 0x29, 0xb2, 0xbc, 0x57, 0x99, 0x21, 0x71, 0xbd, 0xff]);
export const RECORDS_PER_BLOCK = 100;
const CLASS_NAME = Buffer.from('byte[]', 'utf8');

function varintBytes(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/** Marker, LE message length, then the message's version and class-name fields: all fixed-size. */
const BLOCK_PREFIX_BYTES = 16 + 4 + 2 + 1 + varintBytes(CLASS_NAME.length) + CLASS_NAME.length;
/** The first buffer of a block: 100 records of up to 2.5 KB; it grows for longer ones. */
const BLOCK_INITIAL_BYTES = 256 * 1024;

/**
 * One block (marker, LE length, SerializedBlock with the records as proto_blobs), built record by
 * record: each record is copied once, straight into the block, so the caller's buffer may be
 * reused as soon as add returns.
 */
export class BlockBuilder {
  private buf = Buffer.allocUnsafe(BLOCK_INITIAL_BYTES);
  private off = BLOCK_PREFIX_BYTES;
  private count = 0;

  /** Records in the block being built. */
  get records(): number {
    return this.count;
  }

  add(record: Uint8Array): void {
    const need = this.off + 1 + varintBytes(record.length) + record.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.off);
      this.buf = grown;
    }
    const buf = this.buf;
    let off = this.off;
    buf[off++] = 0x1a; // field 3, length-delimited
    off = writeVarint(buf, off, record.length);
    buf.set(record, off);
    this.off = off + record.length;
    this.count++;
  }

  /** The finished block: a view of the builder's buffer, valid until the next add (which starts the next block in it). */
  take(): Buffer {
    const buf = this.buf;
    BLOCK_MARKER.copy(buf, 0);
    buf.writeUInt32LE(this.off - 20, 16);
    let off = 20;
    buf[off++] = 0x08; // field 1, varint
    buf[off++] = 0x01; // version 1
    buf[off++] = 0x12; // field 2, length-delimited
    off = writeVarint(buf, off, CLASS_NAME.length);
    off += CLASS_NAME.copy(buf, off);
    if (off !== BLOCK_PREFIX_BYTES) throw new Error(`block prefix of ${off} bytes, expected ${BLOCK_PREFIX_BYTES}`);
    const block = buf.subarray(0, this.off);
    this.off = BLOCK_PREFIX_BYTES;
    this.count = 0;
    return block;
  }
}

export interface DecodedBlock {
  records: Buffer[];
  /** Offset just after the block. */
  end: number;
}

function readVarint(buf: Buffer, off: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (off >= buf.length) throw new Error('truncated varint');
    const b = buf[off++]!;
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [n, off];
    mul *= 128;
  }
  throw new Error('varint too long');
}

/** Decodes the block starting at `off` (which must hold the marker). */
export function decodeBlock(buf: Buffer, off: number): DecodedBlock {
  if (off + 20 > buf.length) throw new Error(`truncated block header at ${off}`);
  if (!buf.subarray(off, off + 16).equals(BLOCK_MARKER)) throw new Error(`no block marker at ${off}`);
  const len = buf.readUInt32LE(off + 16);
  const start = off + 20;
  const end = start + len;
  if (end > buf.length) throw new Error(`block at ${off} runs past the data (${len} bytes)`);
  const records: Buffer[] = [];
  let p = start;
  while (p < end) {
    const tag = buf[p++]!;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      [, p] = readVarint(buf, p);
    } else if (wire === 2) {
      let n: number;
      [n, p] = readVarint(buf, p);
      if (p + n > end) throw new Error(`field ${field} overruns the block at ${off}`);
      if (field === 3) records.push(buf.subarray(p, p + n));
      p += n;
    } else {
      throw new Error(`unexpected wire type ${wire} in the block at ${off}`);
    }
  }
  return { records, end };
}

/**
 * Records of a stream of decompressed pieces (LZO blocks), one elephant-bird block at a time:
 * a block cut by a piece boundary is carried into the next piece. Memory: one piece plus one block.
 */
export function* recordsOfPieces(pieces: Iterable<Buffer>): Generator<Buffer> {
  let carry: Buffer | null = null;
  for (const piece of pieces) {
    const buf: Buffer = carry === null ? piece : Buffer.concat([carry, piece]);
    let pos = 0;
    while (buf.length - pos >= 20) {
      const len = buf.readUInt32LE(pos + 16);
      if (pos + 20 + len > buf.length) break;
      const block = decodeBlock(buf, pos);
      yield* block.records;
      pos = block.end;
    }
    carry = pos < buf.length ? Buffer.from(buf.subarray(pos)) : null;
  }
  if (carry !== null) throw new Error(`the data ends inside an elephant-bird block (${carry.length} bytes left)`);
}
