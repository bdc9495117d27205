/**
 * One shard of the collector: an HTTP front end and the WAL shard it writes, on the calling
 * process. The main process runs one when wal.shards is 1; with more, each HTTP worker
 * (http-worker.ts) runs one; node:cluster shares the public port between the workers.
 */
import { ERROR_CODES, SluiceError } from '../config/errors';
import { testHooks } from '../config/test-hooks';
import type { CollectorConfig, SluiceConfig } from '../config/types';
import { logger } from '../ops/logger';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import type { LoopDelayMonitor } from '../ops/process-metrics';
import { RequestMetrics } from '../ops/request-metrics';
import { ARTIFACT, VERSION } from '../ops/version';
import { WalMetrics } from '../ops/wal-metrics';
import { InlineSerializer, PoolSerializer, type RecordSerializer } from '../payload/record-serializer';
import { recordTimeMs } from '../payload/record-time';
import { WalStateError } from '../wal/wal-state';
import { WriteAheadLog } from '../wal/write-ahead-log';
import type { SegmentHolder } from '../wal/segment-release';
import { effectiveMaxRecordBytes, streamSinkEnabled } from '../config/streams-block';
import { CollectorServer } from '../http/collector-server';
import { CollectorService, type HealthSource } from '../http/collector-service';

export interface ShardOptions {
  config: SluiceConfig;
  /** The shard's WAL directory. */
  walDir: string;
  /** How often segments roll at the latest (from wal.maxSegmentAgeMs and the ship interval). */
  rollAgeMs: number;
  health: HealthSource;
  /** The sinks that must each be past a sealed segment before the WAL releases it. */
  holders: readonly SegmentHolder[];
}

/** A WAL directory that cannot be used: a start-up error for the operator, not a stack trace. */
export class WalOpenError extends SluiceError {
  constructor(message: string) {
    super(ERROR_CODES.start, message);
  }
}

/** The sinks that hold sealed segments: the shipper (ship.enabled) and the stream sink. */
export function sinkHolders(config: SluiceConfig): SegmentHolder[] {
  const holders: SegmentHolder[] = [];
  if (config.ship.enabled) holders.push('s3');
  if (streamSinkEnabled(config)) holders.push('stream');
  return holders;
}

export class CollectorShard {
  readonly wal: WriteAheadLog;
  readonly walMetrics = new WalMetrics();
  readonly requests: RequestMetrics;
  private readonly serializer: RecordSerializer;
  private readonly server: CollectorServer;

  private readonly health: HealthSource;

  constructor(o: ShardOptions) {
    this.health = o.health;
    const { config } = o;
    const w = config.wal;
    try {
      this.wal = WriteAheadLog.open({
        dir: o.walDir, durability: w.durability, segmentBytes: w.segmentBytes, maxSegmentAgeMs: o.rollAgeMs,
        holders: o.holders, maxPendingRecords: w.maxPendingRecords, maxUnshippedBytes: w.maxUnshippedBytes, minFreeBytes: w.minFreeBytes,
        maxSyncLatencyMs: w.maxSyncLatencyMs, commitPacing: { delayMs: w.commitDelayMs, group: w.commitGroup }, loopSync: { group: w.loopSyncGroup, belowMs: w.loopSyncBelowMs }, spareSegments: w.spareSegments, recycleSegments: w.recycleSegments, syncDelayMs: () => testHooks.syncDelayMs, log: logger, observer: this.walMetrics, eventTimeOf: recordTimeMs,
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (e instanceof WalStateError) throw new WalOpenError(`cannot use the WAL directory ${o.walDir}: ${err.message}`);
      if (typeof err.code === 'string') throw new WalOpenError(`cannot use the WAL directory ${o.walDir} (wal.dir, SLUICE_WAL_DIR): ${err.code} ${err.message}`);
      throw e;
    }
    this.requests = new RequestMetrics(config.collector.paths);
    const recordContext = {
      collector: `${ARTIFACT}-${VERSION}-${this.wal.name}`,
      limits: { maxBytes: effectiveMaxRecordBytes(config), maxPayloadSize: config.collector.networking.maxPayloadSize },
      processor: { artifact: ARTIFACT, version: VERSION },
    };
    this.serializer = w.serializer === 'pool'
      ? new PoolSerializer(recordContext, { threads: w.serializerThreads, batch: w.serializerBatch, maxQueuedJobs: w.serializerMaxQueuedJobs })
      : new InlineSerializer(recordContext);
    this.server = new CollectorServer({
      config: config.collector,
      service: new CollectorService(config.collector, o.health),
      serializer: this.serializer,
      sink: this.wal,
      onError: (err) => logger.error({ err }, 'request handler failed'),
      observer: this.requests,
    });
  }

  /** Takes the reloadable part of a new collector configuration (see reload.ts). */
  reload(collector: CollectorConfig): void {
    this.server.replaceService(new CollectorService(collector, this.health));
  }

  listen(host: string, port: number): Promise<number> {
    return this.server.listen(host, port);
  }

  stopListening(): void {
    this.server.stopListening();
  }

  snapshot(loop: LoopDelayMonitor): ShardSnapshot {
    return { requests: this.requests.snapshot(), wal: this.walMetrics.snapshot(this.wal), loopDelay: loop.delay.snapshot(), loopDelayLastMs: loop.lastSecondMaxDelayMs };
  }

  /** Stops accepting, answers what is in flight, seals the open segment and syncs everything. */
  async close(): Promise<void> {
    this.server.stopListening();
    while (this.server.inFlight() > 0) await new Promise((r) => setTimeout(r, 20));
    await this.serializer.close();
    await this.wal.close();
    this.server.close();
  }
}
