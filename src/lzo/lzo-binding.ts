/** The native LZO1X-1 compressor (minilzo, through the `lzo` package). */
import { strict as assert } from 'node:assert';
import { dirname, join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lzo = require('lzo') as { decompress(input: Buffer, length: number): Buffer; version: string };

/** lzo_version() of the linked library as lzop's lib_version field holds it: 2.09 -> 0x2090, 2.10 -> 0x20A0. */
function libVersion(v: string): number {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (m === null) return 0x2090;
  return ((Number(m[1]) << 12) | (Number(m[2]) << 4)) & 0xffff;
}

export const LZO_LIB_VERSION = libVersion(lzo.version);

/**
 * The `lzo` package's native binding itself: its `compress` wrapper allocates (and zero-fills) a
 * new output buffer per call. With a new block buffer per elephant-bird block as well, that was
 * close to 200 MB of short-lived external memory per 64 MiB segment shipped, which V8 answers
 * with full collections in the shipper's isolate whose parallel phases run on V8's shared
 * threads, at the HTTP thread's priority, not the shipper's.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const binding = require(join(dirname(require.resolve('lzo/package.json')), 'build', 'Release', 'node_lzo.node')) as {
  compress(input: Buffer, output: Buffer): { err: number; len: number };
};

/** Largest LZO1X-1 output for `n` input bytes (minilzo's documented worst case). */
export function lzoWorstCase(n: number): number {
  return n + Math.ceil(n / 16) + 64 + 3;
}

/** LZO1X-1 compression into one output buffer, reused by every call. */
export class LzoCompressor {
  private readonly out: Buffer;

  constructor(readonly maxInputBytes: number) {
    this.out = Buffer.allocUnsafe(lzoWorstCase(maxInputBytes));
  }

  /** The compressed bytes: a view of the reused buffer, valid until the next call. */
  compress(raw: Buffer): Buffer {
    assert(raw.length <= this.maxInputBytes, `LZO input of ${raw.length} bytes over ${this.maxInputBytes}`);
    const r = binding.compress(raw, this.out);
    if (r.err !== 0) throw new Error(`LZO compression failed: error ${r.err}`);
    return this.out.subarray(0, r.len);
  }
}

export function lzoDecompress(data: Buffer, length: number): Buffer {
  return lzo.decompress(data, length);
}
