/**
 * The hot path's record build: encodes a RecordJob as CollectorPayload TBinaryProtocol bytes
 * straight from the job's strings into one reused scratch buffer, with no intermediate
 * `Name: value` strings, no size pre-pass (lengths are back-filled) and no per-record
 * allocation but the result. Records at or over `maxBytes` take the reference path
 * (record-job.ts buildRecords: split or size_violation). test/record-encoder.test.ts proves
 * the bytes identical to buildRecords on random and edge jobs.
 */
import { isCookieOctet } from './cookie-header';
import { canonicalHeaderName } from './header-names';
import { COLLECTOR_PAYLOAD_SCHEMA } from './collector-payload';
import { buildRecords, headerKept, hostWithoutPort, ipAddress, type RecordContext, type RecordJob } from './record-job';
import type { Serialized } from './split-batch';

/** Buffer's unchecked UTF-8 writer (what `buf.write(s, off)` calls after validating its arguments). */
interface Utf8Writable {
  utf8Write(s: string, offset: number, length: number): number;
}

const T_I64 = 0x0a;
const T_STRING = 0x0b;
const T_LIST = 0x0f;

/** A string field's bytes: type, id, length, UTF-8 text. */
function constantField(id: number, text: string): Buffer {
  const s = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(7 + s.length);
  b[0] = T_STRING;
  b.writeUInt16BE(id, 1);
  b.writeUInt32BE(s.length, 3);
  s.copy(b, 7);
  return b;
}

/** 1 for each ASCII cookie-octet (RFC 6265), by code. */
const COOKIE_OCTET = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++) COOKIE_OCTET[c] = isCookieOctet(c) ? 1 : 0;

const NAME_CACHE_LIMIT = 4096;
/** Spare room past the bound: the scratch buffer never grows for ordinary records. */
const INITIAL_SCRATCH = 64 * 1024;

export class RecordEncoder {
  private scratch: Buffer;
  private readonly encoding: Buffer;
  private readonly collector: Buffer;
  private readonly schema: Buffer;
  /** `Canonical-Name: ` as UTF-8, by lower-case name (bounded: names come from clients). */
  private readonly names = new Map<string, Buffer>();

  constructor(private readonly ctx: RecordContext) {
    this.scratch = Buffer.allocUnsafe(INITIAL_SCRATCH);
    this.encoding = constantField(210, 'UTF-8');
    this.collector = constantField(220, ctx.collector);
    this.schema = constantField(31337, COLLECTOR_PAYLOAD_SCHEMA);
  }

  /** The job's records: one record when it is under `maxBytes`, else what buildRecords makes of it. */
  encode(job: RecordJob): Serialized {
    const n = this.encodeInto(job);
    if (n >= this.ctx.limits.maxBytes) return buildRecords(job, this.ctx);
    const out = Buffer.allocUnsafe(n);
    this.scratch.copy(out, 0, 0, n);
    return { good: [out], bad: [] };
  }

  /** Writes the record into the scratch buffer; returns its length. */
  private encodeInto(job: RecordJob): number {
    const buf = this.ensureScratch(job);
    const w = buf as unknown as Utf8Writable;
    let off = this.stringField(buf, 0, 100, ipAddress(job));
    buf[off] = T_I64;
    buf[off + 1] = 0;
    buf[off + 2] = 200;
    const ts = Math.trunc(job.timestamp);
    buf.writeInt32BE(Math.floor(ts / 0x1_0000_0000), off + 3);
    buf.writeUInt32BE(ts >>> 0, off + 7);
    off += 11;
    off += this.encoding.copy(buf, off);
    off += this.collector.copy(buf, off);
    if (job.userAgent !== null) off = this.stringField(buf, off, 300, job.userAgent);
    if (job.referer !== null) off = this.stringField(buf, off, 310, job.referer);
    off = this.stringField(buf, off, 320, job.path);
    off = this.stringField(buf, off, 330, job.query);
    if (job.body !== null) {
      off = fieldHeader(buf, off, T_STRING, 340);
      buf.writeUInt32BE(job.body.length, off);
      off += 4 + job.body.copy(buf, off + 4);
    }
    // Headers: list<string>, its count back-filled once the Cookie rewrite has decided.
    off = fieldHeader(buf, off, T_LIST, 350);
    buf[off] = T_STRING;
    const countAt = off + 1;
    off += 5;
    let count = 0;
    const { names, values, anonymous } = job;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (!headerKept(name, anonymous)) continue;
      if (name === 'cookie') {
        const end = this.cookieEntry(buf, off, values[i]!);
        if (end !== off) { off = end; count++; }
        continue;
      }
      const prefix = this.namePrefix(name);
      const start = off + 4;
      let p = start + prefix.copy(buf, start);
      p += w.utf8Write(values[i]!, p, buf.length - p);
      buf.writeUInt32BE(p - start, off);
      off = p;
      count++;
    }
    if (job.contentType !== null) {
      off = this.stringAt(buf, off, job.contentType);
      count++;
    }
    buf.writeUInt32BE(count, countAt);
    if (job.contentType !== null) off = this.stringField(buf, off, 360, job.contentType);
    const host = hostWithoutPort(job.host);
    if (host !== null) off = this.stringField(buf, off, 400, host);
    off = this.stringField(buf, off, 410, job.nuid);
    off += this.schema.copy(buf, off);
    buf[off++] = 0;
    return off;
  }

  /**
   * The record's `Cookie: …` entry at `off` (SSC 3.2.1+ rewrite: spaces removed, parts outside
   * cookie-octet dropped, `;`-joined); returns `off` unchanged when no part remains. Every kept
   * byte is ASCII, so it is written byte by byte without building strings.
   */
  private cookieEntry(buf: Buffer, off: number, value: string): number {
    const start = off + 4;
    const prefix = this.namePrefix('cookie');
    const first = start + prefix.copy(buf, start);
    let p = first;
    let partStart = p;
    let valid = true;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      // Most characters are cookie-octets: one table load decides them.
      if (c < 0x80 && COOKIE_OCTET[c] === 1) {
        if (valid) buf[p++] = c;
        continue;
      }
      if (c === 0x20) continue;
      if (c !== 0x3b) {
        valid = false;
        continue;
      }
      // End of a part: keep it (with its separator) when non-empty and valid, else drop it.
      if (!valid || p === partStart) p = partStart;
      else buf[p++] = 0x3b;
      partStart = p;
      valid = true;
    }
    // The last part, then a trailing separator left by a kept part followed only by dropped ones.
    if (!valid) p = partStart;
    if (p > first && buf[p - 1] === 0x3b) p--;
    if (p === first) return off;
    buf.writeUInt32BE(p - start, off);
    return p;
  }

  private namePrefix(lower: string): Buffer {
    let b = this.names.get(lower);
    if (b === undefined) {
      b = Buffer.from(`${canonicalHeaderName(lower)}: `, 'utf8');
      if (this.names.size < NAME_CACHE_LIMIT) this.names.set(lower, b);
    }
    return b;
  }

  private stringField(buf: Buffer, off: number, id: number, s: string): number {
    return this.stringAt(buf, fieldHeader(buf, off, T_STRING, id), s);
  }

  private stringAt(buf: Buffer, off: number, s: string): number {
    const n = (buf as unknown as Utf8Writable).utf8Write(s, off + 4, buf.length - off - 4);
    buf.writeUInt32BE(n, off);
    return off + 4 + n;
  }

  /** The scratch buffer, grown to the job's upper bound (3 UTF-8 bytes per UTF-16 unit). */
  private ensureScratch(job: RecordJob): Buffer {
    let bound = 256 + this.collector.length + this.schema.length;
    bound += 3 * (job.peer.length + (job.forwardedFor?.length ?? 0) + (job.userAgent?.length ?? 0) + (job.referer?.length ?? 0));
    bound += 3 * (job.path.length + job.query.length + 2 * (job.contentType?.length ?? 0) + (job.host?.length ?? 0) + job.nuid.length);
    bound += job.body?.length ?? 0;
    const { names, values } = job;
    // Canonical casing can expand a character (toUpperCase gives up to 3 units): 9 bytes per unit.
    for (let i = 0; i < names.length; i++) bound += 10 + 9 * names[i]!.length + 3 * values[i]!.length;
    if (bound > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(bound, this.scratch.length * 2));
    return this.scratch;
  }
}

function fieldHeader(buf: Buffer, off: number, type: number, id: number): number {
  buf[off] = type;
  buf[off + 1] = id >>> 8;
  buf[off + 2] = id & 0xff;
  return off + 3;
}
