/**
 * Ships one sealed segment: builds its files, uploads each with retries and verification, and
 * returns what went where. Used by the collector's shipper and by `sluice replay`; the keys are
 * deterministic, so shipping a segment twice overwrites the same objects. With `toDir`, the files
 * are written under that directory at their keys instead of uploaded.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { objectKey } from './key-template';
import { copyLocalFile, uploadFile, withRetries } from './s3-target';
import { buildSegmentOutputs, type FilePlacer, type LocalFile } from './segment-files';
import type { SegmentRef, ShipPlan } from './ship-plan';

export interface ShippedInfo {
  instanceId: string;
  seq: number;
  keys: string[];
  records: number;
  bytes: number;
  ms: number;
}

export interface ShipHooks {
  onRetry?(key: string, attempt: number, err: Error, delayMs: number): void;
  /** Write the files under this directory instead of uploading them. */
  toDir?: string;
}

/** The objects a segment becomes, with their keys; built into `placer`'s files (an outbox slot). */
export function segmentObjects(seg: SegmentRef, plan: ShipPlan, placer: FilePlacer): { records: number; objects: Array<{ key: string; file: LocalFile; type: string }> } {
  const base = `${seg.instanceId}-${String(seg.seq).padStart(20, '0')}`;
  const out = buildSegmentOutputs(seg.path, placer, base, plan.format, plan.readChunkBytes);
  const firstEventMs = out.footer.firstMs || seg.firstMs;
  const objects: Array<{ key: string; file: LocalFile; type: string }> = [];
  if (out.good !== null) {
    const key = objectKey(plan.keyTemplate, { prefix: plan.prefix, instance: seg.instanceId, seq: seg.seq, firstEventMs, ext: out.good.ext });
    objects.push({ key, file: out.good.file, type: plan.format === 'lzo' ? 'application/x-lzop' : 'application/gzip' });
    if (out.good.index !== null) objects.push({ key: `${key}.index`, file: out.good.index, type: 'application/octet-stream' });
  }
  if (out.bad !== null) {
    const key = objectKey(plan.keyTemplate, { prefix: plan.badPrefix, instance: seg.instanceId, seq: seg.seq, firstEventMs, ext: out.bad.ext });
    objects.push({ key, file: out.bad.file, type: 'application/gzip' });
  }
  return { records: out.footer.records, objects };
}

export async function shipSegment(seg: SegmentRef, plan: ShipPlan, client: S3Client | null, placer: FilePlacer, hooks: ShipHooks = {}): Promise<ShippedInfo> {
  const started = Date.now();
  const { records, objects } = segmentObjects(seg, plan, placer);
  let bytes = 0;
  for (const o of objects) {
    if (hooks.toDir !== undefined) {
      const dest = join(hooks.toDir, o.key);
      mkdirSync(dirname(dest), { recursive: true });
      copyLocalFile(o.file, `${dest}.partial`);
      renameSync(`${dest}.partial`, dest);
    } else {
      if (client === null) throw new Error('no S3 client');
      await withRetries(`upload ${o.key}`, plan.retry, () => uploadFile(client, plan.s3, o.key, o.file, o.type), (attempt, err, delay) => hooks.onRetry?.(o.key, attempt, err, delay));
    }
    bytes += o.file.bytes;
  }
  return { instanceId: seg.instanceId, seq: seg.seq, keys: objects.map((o) => o.key), records, bytes, ms: Date.now() - started };
}
