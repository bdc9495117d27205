/**
 * Packs batches of RecordJobs into one transferable buffer for the serializer pool, and the pool's
 * records back: length-prefixed UTF-8 strings and bytes, one size pass and one allocation each way.
 */
import type { RecordJob } from './record-job';
import type { Serialized } from './split-batch';

const NULL = 0xffffffff;

function strBytes(s: string | null): number {
  return 4 + (s === null ? 0 : Buffer.byteLength(s, 'utf8'));
}

class Writer {
  off = 0;
  constructor(readonly buf: Buffer) {}
  u32(n: number): void { this.buf.writeUInt32LE(n, this.off); this.off += 4; }
  f64(n: number): void { this.buf.writeDoubleLE(n, this.off); this.off += 8; }
  u8(n: number): void { this.buf[this.off++] = n; }
  str(s: string | null): void {
    if (s === null) { this.u32(NULL); return; }
    const n = this.buf.write(s, this.off + 4, 'utf8');
    this.u32(n);
    this.off += n;
  }
  bytes(b: Uint8Array | null): void {
    if (b === null) { this.u32(NULL); return; }
    this.u32(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }
}

class Reader {
  off = 0;
  constructor(readonly buf: Buffer) {}
  u32(): number { const n = this.buf.readUInt32LE(this.off); this.off += 4; return n; }
  f64(): number { const n = this.buf.readDoubleLE(this.off); this.off += 8; return n; }
  u8(): number { return this.buf[this.off++]!; }
  str(): string | null {
    const n = this.u32();
    if (n === NULL) return null;
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.u32();
    if (n === NULL) return null;
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
}

/** A Buffer with an ArrayBuffer of its own (never the shared pool), so it can be transferred. */
function transferable(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}

export function packJobs(jobs: readonly RecordJob[]): Buffer {
  let size = 4;
  for (const j of jobs) {
    size += 8 + 1 + strBytes(j.peer) + strBytes(j.forwardedFor) + strBytes(j.path) + strBytes(j.query) + strBytes(j.contentType)
      + strBytes(j.userAgent) + strBytes(j.referer) + strBytes(j.host) + strBytes(j.nuid) + 4 + (j.body === null ? 0 : j.body.length) + 4;
    for (let i = 0; i < j.names.length; i++) size += strBytes(j.names[i]!) + strBytes(j.values[i]!);
  }
  const w = new Writer(transferable(size));
  w.u32(jobs.length);
  for (const j of jobs) {
    w.f64(j.timestamp);
    w.u8(j.anonymous ? 1 : 0);
    w.str(j.peer); w.str(j.forwardedFor); w.str(j.path); w.str(j.query); w.str(j.contentType);
    w.str(j.userAgent); w.str(j.referer); w.str(j.host); w.str(j.nuid);
    w.bytes(j.body);
    w.u32(j.names.length);
    for (let i = 0; i < j.names.length; i++) { w.str(j.names[i]!); w.str(j.values[i]!); }
  }
  if (w.off !== size) throw new Error(`packJobs wrote ${w.off} of ${size} bytes`);
  return w.buf;
}

export function unpackJobs(buf: Buffer): RecordJob[] {
  const r = new Reader(buf);
  const n = r.u32();
  const jobs: RecordJob[] = [];
  for (let k = 0; k < n; k++) {
    const timestamp = r.f64();
    const anonymous = r.u8() === 1;
    const peer = r.str()!; const forwardedFor = r.str(); const path = r.str()!; const query = r.str()!; const contentType = r.str();
    const userAgent = r.str(); const referer = r.str(); const host = r.str(); const nuid = r.str()!;
    const body = r.bytes();
    const h = r.u32();
    const names: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < h; i++) { names.push(r.str()!); values.push(r.str()!); }
    jobs.push({ timestamp, anonymous, peer, forwardedFor, path, query, body, contentType, userAgent, referer, host, nuid, names, values });
  }
  return jobs;
}

export function packResults(results: readonly Serialized[]): Buffer {
  let size = 4;
  for (const r of results) {
    size += 8;
    for (const b of r.good) size += 4 + b.length;
    for (const b of r.bad) size += 4 + b.length;
  }
  const w = new Writer(transferable(size));
  w.u32(results.length);
  for (const r of results) {
    w.u32(r.good.length);
    w.u32(r.bad.length);
    for (const b of r.good) w.bytes(b);
    for (const b of r.bad) w.bytes(b);
  }
  return w.buf;
}

/** Records as views into `buf` (no copy). */
export function unpackResults(buf: Buffer): Serialized[] {
  const r = new Reader(buf);
  const n = r.u32();
  const out: Serialized[] = [];
  for (let k = 0; k < n; k++) {
    const g = r.u32();
    const b = r.u32();
    const good: Buffer[] = [];
    const bad: Buffer[] = [];
    for (let i = 0; i < g; i++) good.push(r.bytes()!);
    for (let i = 0; i < b; i++) bad.push(r.bytes()!);
    out.push({ good, bad });
  }
  return out;
}
