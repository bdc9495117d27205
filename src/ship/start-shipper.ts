/** Builds the shipper thread's settings from the configuration and starts it. */
import { resolve, join } from 'node:path';
import type { SluiceConfig } from '../config/types';
import type { SegmentSource } from './segment-source';
import { ShipperThread, type ShipperLog } from './shipper-thread';
import type { ShipperWorkerData } from './shipper-worker';
import { slotBytes } from './outbox';
import type { S3Settings } from './s3-target';
import { OUTBOX_DIR } from '../wal/wal-files';

export function s3Settings(config: SluiceConfig): S3Settings {
  const s = config.s3;
  const region = s.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const endpoint = s.endpoint ?? (s.useAws ? `https://s3.${region}.amazonaws.com` : null);
  return {
    endpoint, region, bucket: s.bucket, forcePathStyle: s.forcePathStyle, sse: s.sse, kmsKeyId: s.kmsKeyId, storageClass: s.storageClass,
    multipartThreshold: config.ship.multipartThresholdBytes, partSize: config.ship.partSizeBytes, requestTimeoutMs: s.requestTimeoutMs,
  };
}

export function startShipper(config: SluiceConfig, source: SegmentSource, log: ShipperLog, onFatal: (why: string) => void): ShipperThread {
  const data: ShipperWorkerData = {
    s3: s3Settings(config),
    niceness: config.ship.threadNiceness,
    createBucket: config.s3.createBucket,
    embeddedDir: resolve(config.s3.embeddedDir),
    embeddedPort: config.s3.embeddedPort,
    format: config.ship.format,
    keyTemplate: config.ship.keyTemplate,
    prefix: config.s3.prefix,
    badPrefix: config.s3.badPrefix,
    outDir: join(resolve(config.wal.dir), OUTBOX_DIR),
    outboxSlotBytes: slotBytes(config.wal.segmentBytes),
    readChunkBytes: config.ship.readChunkBytes,
    concurrency: config.ship.concurrency,
    retry: { maxAttempts: config.ship.maxAttempts, baseDelayMs: config.ship.retryBaseDelayMs, maxDelayMs: config.ship.retryMaxDelayMs },
  };
  const thread = new ShipperThread(source, data, log, config.ship.archiveDir === null ? null : resolve(config.ship.archiveDir), onFatal);
  thread.sweepArchive(config.ship.archiveRetentionMs);
  return thread;
}
