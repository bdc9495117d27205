/**
 * What the stream gets for a run of WAL records: good records go to the good stream as they are
 * (the Thrift CollectorPayload bytes, as SSC writes them), bad rows to the bad stream. A good record
 * at or over the good stream's maxBytes (written under a larger wal.maxRecordBytes) takes SSC's
 * size-violation path: a size_violation bad row goes to the bad stream instead. Partition keys are
 * SSC's: the client IP with useIpAddressAsPartitionKey (not when unknown), else a random UUID.
 */
import { randomUUID } from 'node:crypto';
import { collectorPayloadToString } from '../payload/collector-payload';
import { decodeCollectorPayload } from '../payload/decode-payload';
import { sizeViolationRow, type Processor } from '../payload/bad-row';
import { FrameKind } from '../wal/segment-format';
import type { StreamEntry } from './kinesis-client';
import type { RecordKind } from './wal-tail';

export interface EntryRules {
  goodMaxBytes: number;
  ipAsPartitionKey: boolean;
  processor: Processor;
}

export interface StreamParts {
  good: StreamEntry[];
  bad: StreamEntry[];
  /** Good records turned into size_violation rows. */
  sizeViolations: number;
}

function partitionKeyOf(record: Buffer, rules: EntryRules): string {
  if (!rules.ipAsPartitionKey) return randomUUID();
  try {
    const ip = decodeCollectorPayload(record).ipAddress;
    return ip === null || ip === undefined || ip === '' || ip === 'unknown' ? randomUUID() : ip;
  } catch {
    return randomUUID();
  }
}

function violationFor(record: Buffer, rules: EntryRules, now: Date): Buffer {
  let text: string;
  try {
    text = collectorPayloadToString(decodeCollectorPayload(record));
  } catch {
    text = record.toString('latin1');
  }
  return sizeViolationRow(rules.processor, {
    maximumAllowedSizeBytes: rules.goodMaxBytes,
    actualSizeBytes: record.length,
    expectation: `oversized collector payload: the record exceeds the good stream's maxBytes of ${rules.goodMaxBytes}`,
    payload: text.slice(0, Math.floor(rules.goodMaxBytes / 10)),
  }, now);
}

export function streamParts(kind: RecordKind, records: readonly Buffer[], rules: EntryRules, now = new Date()): StreamParts {
  const out: StreamParts = { good: [], bad: [], sizeViolations: 0 };
  for (const r of records) {
    if (kind === FrameKind.Bad) {
      out.bad.push({ data: r, partitionKey: randomUUID() });
    } else if (r.length >= rules.goodMaxBytes) {
      out.bad.push({ data: violationFor(r, rules, now), partitionKey: randomUUID() });
      out.sizeViolations++;
    } else {
      out.good.push({ data: r, partitionKey: partitionKeyOf(r, rules) });
    }
  }
  return out;
}
