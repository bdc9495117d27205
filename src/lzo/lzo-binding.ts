/** The native LZO1X-1 compressor (minilzo, through the `lzo` package). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lzo = require('lzo') as { compress(input: Buffer): Buffer; decompress(input: Buffer, length: number): Buffer; version: string };

/** lzo_version() of the linked library as lzop's lib_version field holds it: 2.09 -> 0x2090, 2.10 -> 0x20A0. */
function libVersion(v: string): number {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (m === null) return 0x2090;
  return ((Number(m[1]) << 12) | (Number(m[2]) << 4)) & 0xffff;
}

export const LZO_LIB_VERSION = libVersion(lzo.version);

export function lzoCompress(raw: Buffer): Buffer {
  return lzo.compress(raw);
}

export function lzoDecompress(data: Buffer, length: number): Buffer {
  return lzo.decompress(data, length);
}
