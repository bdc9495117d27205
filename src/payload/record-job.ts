/**
 * What the front end decided about one request, and the pure function that turns it into records:
 * the record's IP, header list, hostname, then the Thrift bytes (split or size_violation rows).
 * Runs on the main thread or in the serializer pool; both give the same bytes.
 */
import { forwardedFor } from './client-ip';
import { rewriteCookieHeader } from './cookie-header';
import { canonicalHeaderName } from './header-names';
import type { Processor } from './bad-row';
import { COLLECTOR_PAYLOAD_SCHEMA, type CollectorPayload } from './collector-payload';
import { type Serialized, serializeWithSplit, type SplitLimits } from './split-batch';

export interface RecordJob {
  /** Server clock, ms. */
  timestamp: number;
  anonymous: boolean;
  /** Rendered peer address. */
  peer: string;
  forwardedFor: string | null;
  /** Path after `paths` mapping. */
  path: string;
  query: string;
  /** Body for POST (valid UTF-8), null for pixels. */
  body: Buffer | null;
  /** Lower-cased Content-Type for POST, else null. */
  contentType: string | null;
  userAgent: string | null;
  referer: string | null;
  host: string | null;
  nuid: string;
  /** Request headers, lower-case names, arrival order. */
  names: string[];
  values: string[];
}

export interface RecordContext {
  collector: string;
  limits: SplitLimits;
  processor: Processor;
}

/** The record's ipAddress: `unknown` when anonymous, else the first X-Forwarded-For entry or the peer. */
export function ipAddress(job: RecordJob): string {
  if (job.anonymous) return 'unknown';
  if (job.forwardedFor !== null) {
    const ip = forwardedFor(job.forwardedFor);
    if (ip !== null) return ip;
  }
  return job.peer;
}

/** Whether a request header goes into the record: anonymous requests leave out Cookie, X-Forwarded-For and X-Real-IP. */
export function headerKept(lowerName: string, anonymous: boolean): boolean {
  return !anonymous || (lowerName !== 'cookie' && lowerName !== 'x-forwarded-for' && lowerName !== 'x-real-ip');
}

/** The record's header list: `Name: value` in arrival order, Cookie rewritten, anonymity applied. */
export function recordHeaders(job: RecordJob): string[] {
  const out: string[] = [];
  const { names, values } = job;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!headerKept(name, job.anonymous)) continue;
    if (name === 'cookie') {
      const rewritten = rewriteCookieHeader(values[i]!);
      if (rewritten !== null) out.push(`Cookie: ${rewritten}`);
      continue;
    }
    out.push(`${canonicalHeaderName(name)}: ${values[i]!}`);
  }
  if (job.contentType !== null) out.push(job.contentType);
  return out;
}

/** Host header without its port (IPv6 literals keep their brackets). */
export function hostWithoutPort(host: string | null): string | null {
  if (host === null || host === '') return null;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(0, close + 1) : host;
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

export function buildRecords(job: RecordJob, ctx: RecordContext): Serialized {
  const payload: CollectorPayload = {
    schema: COLLECTOR_PAYLOAD_SCHEMA,
    ipAddress: ipAddress(job),
    timestamp: job.timestamp,
    encoding: 'UTF-8',
    collector: ctx.collector,
    userAgent: job.userAgent,
    refererUri: job.referer,
    path: job.path,
    querystring: job.query,
    body: job.body === null ? null : job.body,
    headers: recordHeaders(job),
    contentType: job.contentType,
    hostname: hostWithoutPort(job.host),
    networkUserId: job.nuid,
  };
  return serializeWithSplit(payload, ctx.limits, ctx.processor, new Date(job.timestamp));
}
