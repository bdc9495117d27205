/**
 * Reads a CollectorPayload from TBinaryProtocol bytes (any field order; unknown fields skipped,
 * as Thrift readers do). Throws a DecodeError naming the byte offset on malformed input.
 */
import type { CollectorPayload } from './collector-payload';

export class DecodeError extends Error {
  constructor(readonly offset: number, message: string) {
    super(`${message} at byte ${offset}`);
  }
}

const STRING_FIELDS: Readonly<Record<number, keyof CollectorPayload>> = {
  31337: 'schema', 100: 'ipAddress', 210: 'encoding', 220: 'collector', 300: 'userAgent', 310: 'refererUri',
  320: 'path', 330: 'querystring', 340: 'body', 360: 'contentType', 400: 'hostname', 410: 'networkUserId',
};

const FIXED_SIZE: Readonly<Record<number, number>> = { 2: 1, 3: 1, 4: 8, 6: 2, 8: 4, 10: 8 };

class Cursor {
  constructor(readonly buf: Buffer, public off = 0) {}
  need(n: number): void {
    if (this.off + n > this.buf.length) throw new DecodeError(this.off, `record ends early (${n} more bytes needed)`);
  }
  u8(): number { this.need(1); return this.buf[this.off++]!; }
  i16(): number { this.need(2); const v = this.buf.readInt16BE(this.off); this.off += 2; return v; }
  i32(): number { this.need(4); const v = this.buf.readInt32BE(this.off); this.off += 4; return v; }
  len(): number {
    const at = this.off;
    const n = this.i32();
    if (n < 0) throw new DecodeError(at, `negative length ${n}`);
    this.need(n);
    return n;
  }
  str(): string {
    const n = this.len();
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  skip(type: number, depth = 0): void {
    if (depth > 32) throw new DecodeError(this.off, 'nesting too deep');
    const fixed = FIXED_SIZE[type];
    if (fixed !== undefined) { this.need(fixed); this.off += fixed; return; }
    switch (type) {
      case 11: { const n = this.len(); this.off += n; return; }
      case 12: for (;;) { const t = this.u8(); if (t === 0) return; this.i16(); this.skip(t, depth + 1); }
      case 13: { const k = this.u8(); const v = this.u8(); const n = this.i32(); for (let i = 0; i < n; i++) { this.skip(k, depth + 1); this.skip(v, depth + 1); } return; }
      case 14:
      case 15: { const e = this.u8(); const n = this.i32(); for (let i = 0; i < n; i++) this.skip(e, depth + 1); return; }
      default: throw new DecodeError(this.off - 1, `unknown Thrift type ${type}`);
    }
  }
}

export function decodeCollectorPayload(buf: Buffer): CollectorPayload {
  const c = new Cursor(buf);
  const p: CollectorPayload = { schema: null, ipAddress: null, timestamp: 0, encoding: null, collector: null };
  const fields = p as unknown as Record<string, unknown>;
  for (;;) {
    const type = c.u8();
    if (type === 0) break;
    const id = c.i16();
    const name = STRING_FIELDS[id];
    if (name !== undefined && type === 11) fields[name] = c.str();
    else if (id === 200 && type === 10) {
      c.need(8);
      p.timestamp = Number(buf.readBigInt64BE(c.off));
      c.off += 8;
    } else if (id === 350 && type === 15) {
      const elem = c.u8();
      const n = c.i32();
      if (n < 0) throw new DecodeError(c.off - 4, `negative list size ${n}`);
      const headers: string[] = [];
      for (let i = 0; i < n; i++) {
        if (elem === 11) headers.push(c.str()); else c.skip(elem);
      }
      p.headers = headers;
    } else c.skip(type);
  }
  if (c.off !== buf.length) throw new DecodeError(c.off, `${buf.length - c.off} bytes after the end of the record`);
  return p;
}
