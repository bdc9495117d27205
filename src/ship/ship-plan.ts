/** What the shipper ships and how: plain data, so it can cross into the shipper thread and serve replay. */
import type { RetryPolicy, S3Settings } from './s3-target';
import type { ShipFormat } from './segment-files';

export interface SegmentRef {
  /** The WAL (shard) it belongs to: part of its keys. */
  instanceId: string;
  seq: number;
  path: string;
  /** First event's append time (ms): the key's hour and the lag. */
  firstMs: number;
}

/** What and where to ship: plain data, so it can cross into the shipper thread. */
export interface ShipPlan {
  s3: S3Settings;
  format: ShipFormat;
  keyTemplate: string;
  prefix: string;
  badPrefix: string;
  /** Where segment files are built before upload. */
  outDir: string;
  /** Bytes of the buffer a segment is read through (SegmentFileReader). */
  readChunkBytes: number;
  concurrency: number;
  retry: RetryPolicy;
}

/** A segment's identity across shards. */
export function segmentId(seg: { instanceId: string; seq: number }): string {
  return `${seg.instanceId}/${seg.seq}`;
}
