/**
 * SSC 3.x SplitBatch: a record at or over the sink's maxBytes is split into several records when
 * its body is a self-describing JSON with a `data` array, or becomes size_violation bad rows.
 * Reproduces SSC's order quirk: batches, and events inside a batch, come out reversed.
 */
import { type Processor, sizeViolationRow } from './bad-row';
import { type CollectorPayload, collectorPayloadToString, encodeCollectorPayload, encodedSize } from './collector-payload';

export interface Serialized {
  good: Buffer[];
  bad: Buffer[];
}

export interface SplitLimits {
  /** Records must be smaller than this (SSC sink maxBytes). */
  maxBytes: number;
  /** Records larger than this are never split (networking.maxPayloadSize). */
  maxPayloadSize: number;
}

const PREFIX = 'oversized collector payload: ';
const IGLU_URI = /^iglu:([a-zA-Z0-9\-_.]+)\/([a-zA-Z0-9\-_]+)\/([a-zA-Z0-9\-_]+)\/([1-9][0-9]*|0)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

export interface SplitResult<T> {
  batches: T[][];
  failed: T[];
}

/** Greedy packing of JSON values whose compact sizes plus `joinSize` each fit `maximum`. */
export function splitJsonValues<T>(input: readonly T[], maximum: number, joinSize: number): SplitResult<T> {
  const batches: T[][] = [];
  const failed: T[] = [];
  let current: T[] = [];
  let total = 0;
  for (const value of input) {
    const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (size + joinSize > maximum) {
      failed.unshift(value);
      continue;
    }
    if (size + total + joinSize > maximum) {
      batches.unshift(current.reverse());
      current = [];
      total = 0;
    }
    current.push(value);
    total += size + joinSize;
  }
  if (current.length > 0) batches.unshift(current.reverse());
  return { batches, failed };
}

function violation(processor: Processor, payload: CollectorPayload, max: number, actual: number, why: string, now: Date): Buffer {
  const text = collectorPayloadToString(payload);
  return sizeViolationRow(processor, {
    maximumAllowedSizeBytes: max,
    actualSizeBytes: actual,
    expectation: PREFIX + why,
    payload: text.slice(0, Math.floor(max / 10)),
  }, now);
}

function bodyText(body: string | Buffer): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

/** Serializes one request's record, splitting or rejecting it per SSC 3.x. */
export function serializeWithSplit(payload: CollectorPayload, limits: SplitLimits, processor: Processor, now: Date): Serialized {
  const size = encodedSize(payload);
  if (size < limits.maxBytes) return { good: [encodeCollectorPayload(payload)], bad: [] };
  const bad = (max: number, why: string): Serialized => ({ good: [], bad: [violation(processor, payload, max, size, why, now)] });
  if (size > limits.maxPayloadSize) {
    return bad(limits.maxPayloadSize, `Payload exceeds max size of ${limits.maxPayloadSize}. Actual length: ${size}`);
  }
  if (payload.body === null || payload.body === undefined) return bad(limits.maxBytes, 'GET requests cannot be split');
  let json: unknown;
  try {
    json = JSON.parse(bodyText(payload.body));
  } catch (e) {
    return bad(limits.maxBytes, `cannot split POST requests which are not json ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return bad(limits.maxBytes, 'cannot split POST requests which are not self-describing the body is not a JSON object');
  }
  const sdj = json as Record<string, unknown>;
  const schema = sdj['schema'];
  if (typeof schema !== 'string') {
    return bad(limits.maxBytes, 'cannot split POST requests which are not self-describing the "schema" field is missing or not a string');
  }
  if (!IGLU_URI.test(schema)) {
    return bad(limits.maxBytes, `cannot split POST requests which are not self-describing Invalid Iglu URI: ${schema}, code: INVALID_IGLUURI`);
  }
  const data = sdj['data'];
  if (!Array.isArray(data)) return bad(limits.maxBytes, 'cannot split POST requests which do not contain a data array');
  const dataSize = Buffer.byteLength(JSON.stringify(data), 'utf8');
  if (size - dataSize >= limits.maxBytes) {
    return bad(limits.maxBytes, 'cannot split this POST request because event without "data" field is still too big');
  }
  const split = splitJsonValues(data as unknown[], limits.maxBytes - size + dataSize, 1);
  const out: Serialized = { good: [], bad: [] };
  for (const batch of split.batches) {
    const body = `{"schema":${JSON.stringify(schema)},"data":${JSON.stringify(batch)}}`;
    out.good.push(encodeCollectorPayload({ ...payload, body }));
  }
  for (const event of split.failed) {
    const text = JSON.stringify(event);
    out.bad.push(sizeViolationRow(processor, {
      maximumAllowedSizeBytes: limits.maxBytes,
      actualSizeBytes: Buffer.byteLength(text, 'utf8'),
      expectation: `${PREFIX}this POST request split is still too large`,
      payload: text.slice(0, Math.floor(limits.maxBytes / 10)),
    }, now));
  }
  return out;
}
