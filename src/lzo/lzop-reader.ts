/**
 * Reads and checks an lzop container: header (magic, versions, method, flags, checksum), every
 * block (lengths, Adler-32 / CRC-32 when flagged, decompression to exactly dst_len), terminator.
 * Problems are LzopError with the byte offset.
 */
import { crc32 } from '@node-rs/crc32';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { adler32 } from './adler32';
import { lzoDecompress } from './lzo-binding';
import { F_CRC32_D, LZOP_MAGIC } from './lzop-writer';

export class LzopError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`${message} (byte offset ${offset})`);
  }
}

export interface LzopBlock {
  /** Offset of the block's dst_len word: what the .lzo.index lists. */
  offset: number;
  data: Buffer;
}

const F_ADLER32_D = 0x1;
const F_ADLER32_C = 0x2;
const F_H_EXTRA_FIELD = 0x40;
const F_CRC32_C = 0x200;
const F_H_FILTER = 0x800;
const F_H_CRC32 = 0x1000;
const MAX_BLOCK = 64 * 1024 * 1024;

export interface LzopHeaderInfo {
  flags: number;
  headerBytes: number;
}

export function readLzopHeader(file: Buffer): LzopHeaderInfo {
  if (file.length < 9 || !file.subarray(0, 9).equals(LZOP_MAGIC)) throw new LzopError(0, 'not an lzop file: wrong magic');
  if (file.length < 34) throw new LzopError(file.length, 'truncated lzop header');
  const version = file.readUInt16BE(9);
  if (version < 0x0940) throw new LzopError(9, `lzop version 0x${version.toString(16)} is too old`);
  const needed = file.readUInt16BE(13);
  if (needed > 0x1040) throw new LzopError(13, `needs lzop 0x${needed.toString(16)} to extract`);
  const method = file[15]!;
  if (method < 1 || method > 3) throw new LzopError(15, `unknown method ${method}`);
  const flags = file.readUInt32BE(17);
  let off = 21;
  if (flags & F_H_FILTER) off += 4;
  off += 12; // mode, mtime_low, mtime_high
  const nameLen = file[off]!;
  off += 1 + nameLen;
  if (off + 4 > file.length) throw new LzopError(file.length, 'truncated lzop header');
  const stored = file.readUInt32BE(off);
  const sum = flags & F_H_CRC32 ? crc32(file.subarray(9, off)) : adler32(file.subarray(9, off));
  if (stored !== sum) throw new LzopError(off, 'lzop header checksum mismatch');
  off += 4;
  if (flags & F_H_EXTRA_FIELD) {
    const n = file.readUInt32BE(off);
    off += 4 + n + 4;
  }
  return { flags, headerBytes: off };
}

/** Random access to the container's bytes: a whole Buffer, or a file read piece by piece. */
interface ByteSource {
  length: number;
  read(off: number, len: number): Buffer;
}

function bufferSource(buf: Buffer): ByteSource {
  return { length: buf.length, read: (off, len) => buf.subarray(off, off + len) };
}

/** Reads a file through its descriptor, so memory holds one block at a time. */
export function fileSource(fd: number, length: number): ByteSource {
  return {
    length,
    read(off: number, len: number): Buffer {
      const n = Math.max(0, Math.min(len, length - off));
      const b = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, b, got, n - got, off + got);
        if (r === 0) break;
        got += r;
      }
      return b.subarray(0, got);
    },
  };
}

/** Yields every block, checked and decompressed; throws LzopError on the first problem. */
export function* readLzopBlocks(file: Buffer): Generator<LzopBlock> {
  yield* readLzopSource(bufferSource(file));
}

/** The same for a large file, one block in memory at a time. */
export function* readLzopFile(path: string): Generator<LzopBlock> {
  const fd = openSync(path, 'r');
  try {
    yield* readLzopSource(fileSource(fd, fstatSync(fd).size));
  } finally {
    closeSync(fd);
  }
}

function* readLzopSource(src0: ByteSource): Generator<LzopBlock> {
  const head = src0.read(0, Math.min(src0.length, 64 * 1024));
  const { flags, headerBytes } = readLzopHeader(head);
  const file = { length: src0.length, readUInt32BE: (o: number): number => src0.read(o, 4).readUInt32BE(0), subarray: (a: number, b?: number): Buffer => src0.read(a, (b ?? src0.length) - a) };
  let off = headerBytes;
  for (;;) {
    if (off + 4 > file.length) throw new LzopError(off, 'file ends before the terminator (truncated)');
    const dst = file.readUInt32BE(off);
    if (dst === 0) {
      if (off + 4 !== file.length && file.subarray(off + 4, Math.min(file.length, off + 4 + 65536)).some((b) => b !== 0)) throw new LzopError(off + 4, 'data after the terminator');
      return;
    }
    const blockStart = off;
    if (off + 8 > file.length) throw new LzopError(off, 'truncated block header');
    const src = file.readUInt32BE(off + 4);
    if (dst > MAX_BLOCK || src === 0 || src > dst) throw new LzopError(off, `invalid block lengths (uncompressed ${dst}, stored ${src})`);
    off += 8;
    const words = (flags & F_ADLER32_D ? 1 : 0) + (flags & F_CRC32_D ? 1 : 0) + (src < dst ? (flags & F_ADLER32_C ? 1 : 0) + (flags & F_CRC32_C ? 1 : 0) : 0);
    if (off + 4 * words + src > file.length) throw new LzopError(blockStart, 'block runs past the end of the file (truncated)');
    const piece = file.subarray(off, off + 4 * words + src);
    let w = 0;
    const adlerD = flags & F_ADLER32_D ? piece.readUInt32BE((w += 4) - 4) : null;
    const crcD = flags & F_CRC32_D ? piece.readUInt32BE((w += 4) - 4) : null;
    const adlerC = src < dst && flags & F_ADLER32_C ? piece.readUInt32BE((w += 4) - 4) : null;
    const crcC = src < dst && flags & F_CRC32_C ? piece.readUInt32BE((w += 4) - 4) : null;
    off += w;
    const stored = piece.subarray(w, w + src);
    if (adlerC !== null && adler32(stored) !== adlerC) throw new LzopError(blockStart, 'compressed-data Adler-32 mismatch');
    if (crcC !== null && crc32(stored) !== crcC) throw new LzopError(blockStart, 'compressed-data CRC-32 mismatch');
    let data: Buffer;
    if (src < dst) {
      try {
        data = lzoDecompress(stored, dst);
      } catch (e) {
        throw new LzopError(blockStart, `LZO data does not decompress: ${(e as Error).message}`);
      }
      if (data.length !== dst) throw new LzopError(blockStart, `block decompresses to ${data.length} bytes, header says ${dst}`);
    } else {
      data = Buffer.from(stored);
    }
    if (adlerD !== null && adler32(data) !== adlerD) throw new LzopError(blockStart, 'Adler-32 mismatch of the uncompressed data');
    if (crcD !== null && crc32(data) !== crcD) throw new LzopError(blockStart, 'CRC-32 mismatch of the uncompressed data');
    off += src;
    yield { offset: blockStart, data };
  }
}
