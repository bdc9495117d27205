/**
 * CollectorPayload (thrift/collector-payload.thrift) and its TBinaryProtocol encoding,
 * written by hand for the hot path: one size pass, one allocation, one write pass.
 * test/payload-encoder.test.ts proves the bytes identical to the `thrift` package's output.
 */

export const COLLECTOR_PAYLOAD_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0';

export interface CollectorPayload {
  schema: string | null;
  ipAddress: string | null;
  /** Milliseconds since the epoch (thrift i64). */
  timestamp: number;
  encoding: string | null;
  collector: string | null;
  userAgent?: string | null;
  refererUri?: string | null;
  path?: string | null;
  querystring?: string | null;
  /** Text; a Buffer must hold valid UTF-8 (it is written as is). */
  body?: string | Buffer | null;
  headers?: readonly string[] | null;
  contentType?: string | null;
  hostname?: string | null;
  networkUserId?: string | null;
}

const T_I64 = 0x0a;
const T_STRING = 0x0b;
const T_LIST = 0x0f;

type StrField = 'ipAddress' | 'encoding' | 'collector' | 'userAgent' | 'refererUri' | 'path' | 'querystring' | 'contentType' | 'hostname' | 'networkUserId' | 'schema';

/** Fields in ascending id order, as TBinaryProtocol writes them. */
const ORDER: ReadonlyArray<readonly [id: number, name: StrField | 'timestamp' | 'body' | 'headers']> = [
  [100, 'ipAddress'], [200, 'timestamp'], [210, 'encoding'], [220, 'collector'], [300, 'userAgent'],
  [310, 'refererUri'], [320, 'path'], [330, 'querystring'], [340, 'body'], [350, 'headers'],
  [360, 'contentType'], [400, 'hostname'], [410, 'networkUserId'], [31337, 'schema'],
];

function strLen(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Size in bytes of the TBinaryProtocol encoding of `p`. */
export function encodedSize(p: CollectorPayload): number {
  let size = 1 + 11; // stop byte + timestamp field
  for (const [, name] of ORDER) {
    if (name === 'timestamp') continue;
    if (name === 'headers') {
      const hs = p.headers;
      if (hs === null || hs === undefined) continue;
      size += 3 + 1 + 4;
      for (let i = 0; i < hs.length; i++) size += 4 + Buffer.byteLength(hs[i]!, 'utf8');
      continue;
    }
    const v = p[name];
    if (v !== null && v !== undefined) size += 7 + strLen(v);
  }
  return size;
}

function writeFieldHeader(buf: Buffer, off: number, type: number, id: number): number {
  buf[off] = type;
  buf[off + 1] = id >>> 8;
  buf[off + 2] = id & 0xff;
  return off + 3;
}

function writeString(buf: Buffer, off: number, v: string | Buffer): number {
  const n = typeof v === 'string' ? buf.write(v, off + 4, 'utf8') : v.copy(buf, off + 4);
  buf.writeUInt32BE(n, off);
  return off + 4 + n;
}

/** Encodes `p` as TBinaryProtocol bytes (fields in ascending id order, then the stop byte). */
export function encodeCollectorPayload(p: CollectorPayload): Buffer {
  const buf = Buffer.allocUnsafe(encodedSize(p));
  let off = 0;
  for (const [id, name] of ORDER) {
    if (name === 'timestamp') {
      off = writeFieldHeader(buf, off, T_I64, id);
      buf.writeBigInt64BE(BigInt(Math.trunc(p.timestamp)), off);
      off += 8;
      continue;
    }
    if (name === 'headers') {
      const hs = p.headers;
      if (hs === null || hs === undefined) continue;
      off = writeFieldHeader(buf, off, T_LIST, id);
      buf[off] = T_STRING;
      buf.writeUInt32BE(hs.length, off + 1);
      off += 5;
      for (let i = 0; i < hs.length; i++) off = writeString(buf, off, hs[i]!);
      continue;
    }
    const v = p[name];
    if (v === null || v === undefined) continue;
    off = writeFieldHeader(buf, off, T_STRING, id);
    off = writeString(buf, off, v);
  }
  buf[off++] = 0;
  if (off !== buf.length) throw new Error(`CollectorPayload encoder: wrote ${off} of ${buf.length} bytes`);
  return buf;
}

/** Declaration order (toString order) of the IDL, with requiredness. */
const DECLARED: ReadonlyArray<readonly [name: keyof CollectorPayload, optional: boolean]> = [
  ['schema', false], ['ipAddress', false], ['timestamp', false], ['encoding', false], ['collector', false],
  ['userAgent', true], ['refererUri', true], ['path', true], ['querystring', true], ['body', true],
  ['headers', true], ['contentType', true], ['hostname', true], ['networkUserId', true],
];

/**
 * The text Thrift's generated Java `toString()` gives, which SSC puts (truncated) into
 * size_violation bad rows: default fields always (null as `null`), optional ones when set.
 */
export function collectorPayloadToString(p: CollectorPayload): string {
  const parts: string[] = [];
  for (const [name, optional] of DECLARED) {
    const v = p[name];
    if (optional && (v === null || v === undefined)) continue;
    let text: string;
    if (v === null || v === undefined) text = 'null';
    else if (Array.isArray(v)) text = `[${v.join(', ')}]`;
    else if (Buffer.isBuffer(v)) text = v.toString('utf8');
    else text = String(v);
    parts.push(`${name}:${text}`);
  }
  return `CollectorPayload(${parts.join(', ')})`;
}
