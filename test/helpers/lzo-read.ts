/**
 * Independent readers of shipped LZO files for tests: Debian's lzop for test and decompression,
 * lzo-wasm (not the writer's native minilzo binding) for block-level reads from index offsets,
 * a small elephant-bird block parser written here, and the thrift package for the records.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import * as zlib from 'node:zlib';

const F_ADLER32_D = 0x1;
const F_CRC32_D = 0x100;
const zlibCrc32 = (zlib as unknown as { crc32(data: Uint8Array): number }).crc32;

/** Adler-32 by the RFC 1950 definition, one byte at a time (a reference, not the product's). */
function adler32Ref(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const MARKER = Buffer.from('29d8d50658cd4c29b2bc579921 71bdff'.replace(/ /g, ''), 'hex');

function tmpFile(name: string, data: Buffer): string {
  const p = join(mkdtempSync(join(tmpdir(), 'sluice-lzo-')), name);
  writeFileSync(p, data);
  return p;
}

/** `lzop -t`: throws with lzop's message when the file is not valid. */
export function lzopTest(data: Buffer): void {
  execFileSync('lzop', ['-t', tmpFile('x.lzo', data)], { stdio: 'pipe' });
}

/** `lzop -dc`: the decompressed stream. */
export function lzopDecompress(data: Buffer): Buffer {
  return execFileSync('lzop', ['-dc', tmpFile('x.lzo', data)], { maxBuffer: 1 << 30 });
}

function varint(buf: Buffer, off: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (;;) {
    const b = buf[off++]!;
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [n, off];
    mul *= 128;
  }
}

/** Parses elephant-bird blocks from `start` (must be a marker) to the end; throws on any gap. */
export function parseBlocks(stream: Buffer, start = 0): { records: Buffer[]; blocks: number[] } {
  const records: Buffer[] = [];
  const blocks: number[] = [];
  let off = start;
  while (off < stream.length) {
    if (!stream.subarray(off, off + 16).equals(MARKER)) throw new Error(`no marker at ${off}`);
    const len = stream.readUInt32LE(off + 16);
    let p = off + 20;
    const end = p + len;
    if (end > stream.length) throw new Error(`block at ${off} is cut`);
    let count = 0;
    while (p < end) {
      const tag = stream[p++]!;
      if ((tag & 7) === 0) { [, p] = varint(stream, p); continue; }
      let n: number;
      [n, p] = varint(stream, p);
      if (tag >>> 3 === 2 && stream.toString('utf8', p, p + n) !== 'byte[]') throw new Error('proto_class_name is not byte[]');
      if (tag >>> 3 === 3) { records.push(stream.subarray(p, p + n)); count++; }
      p += n;
    }
    if (p !== end) throw new Error(`block at ${off} does not end at its length`);
    blocks.push(count);
    off = end;
  }
  return { records, blocks };
}

interface LzoWasm { decompress(data: Uint8Array, length: number): Buffer }
let wasm: Promise<LzoWasm> | null = null;

/** lzo-wasm's decompressor (an emscripten build of LZO, independent of the writer's binding). */
export function lzoWasm(): Promise<LzoWasm> {
  wasm ??= (async () => {
    const dir = join(__dirname, '..', '..', 'node_modules', 'lzo-wasm');
    const src = readFileSync(join(dir, 'lzo-wasm.js'), 'utf8').replace('export default createModule', 'createModule').replace(/var _scriptDir = [^;]*;/, 'var _scriptDir = undefined;');
    const create = runInThisContext(`(function(){ ${src}; return createModule; })()`) as (o: object) => Promise<{ cwrap: (n: string, r: string, a: string[]) => (a: number, b: number, c: number) => number; _malloc(n: number): number; _free(p: number): void; HEAPU8: Uint8Array }>;
    const M = await create({ wasmBinary: readFileSync(join(dir, 'lzo-wasm.wasm')) });
    const dec = M.cwrap('decompress', 'number', ['number', 'number', 'number']);
    return {
      decompress(data: Uint8Array, length: number): Buffer {
        const ip = M._malloc(data.length);
        M.HEAPU8.set(data, ip);
        const op = dec(ip, data.length, length);
        const out = Buffer.from(M.HEAPU8.subarray(op, op + length));
        M._free(ip);
        return out;
      },
    };
  })();
  return wasm;
}

/** Walks the lzop container: offsets of every block, and the data from block `fromBlock` on. */
export async function readLzopBlocks(file: Buffer, fromOffset?: number): Promise<{ offsets: number[]; data: Buffer }> {
  const lzo = await lzoWasm();
  const flags = file.readUInt32BE(17);
  const nameLen = file[33]!;
  let off = 34 + nameLen + 4;
  const offsets: number[] = [];
  const parts: Buffer[] = [];
  for (;;) {
    const dst = file.readUInt32BE(off);
    if (dst === 0) break;
    const src = file.readUInt32BE(off + 4);
    const blockStart = off;
    off += 8;
    const adlerD = flags & F_ADLER32_D ? file.readUInt32BE((off += 4) - 4) : null;
    const crcD = flags & F_CRC32_D ? file.readUInt32BE((off += 4) - 4) : null;
    if (flags & ~(F_ADLER32_D | F_CRC32_D) & 0x303) throw new Error(`unexpected checksum flags ${flags.toString(16)}`);
    const raw = file.subarray(off, off + src);
    off += src;
    offsets.push(blockStart);
    if (fromOffset === undefined || blockStart >= fromOffset) {
      const data = src < dst ? lzo.decompress(raw, dst) : Buffer.from(raw);
      // zlib's CRC-32 and the reference Adler-32 above, not the product's @node-rs/crc32 or adler32.ts.
      if (crcD !== null && zlibCrc32(data) !== crcD) throw new Error(`CRC-32 of the block at ${blockStart} does not match`);
      if (adlerD !== null && adler32Ref(data) !== adlerD) throw new Error(`Adler-32 of the block at ${blockStart} does not match`);
      parts.push(data);
    }
  }
  if (off + 4 !== file.length) throw new Error(`${file.length - off - 4} bytes after the terminator`);
  return { offsets, data: Buffer.concat(parts) };
}

/** Index entries (big-endian int64). */
export function readIndex(idx: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < idx.length; i += 8) out.push(Number(idx.readBigInt64BE(i)));
  return out;
}

/** The first marker at or after `from`. */
export function nextMarker(stream: Buffer, from = 0): number {
  return stream.indexOf(MARKER, from);
}
