/**
 * The collector's shards as the main thread sees them: one CollectorShard on the main thread
 * (wal.shards = 1, LocalShards), or one per HTTP worker process (HttpWorkers, http-workers.ts).
 */
import type { CollectorConfig } from '../config/types';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import type { LoopDelayMonitor } from '../ops/process-metrics';
import { type SegmentSource, walSegmentSource } from '../ship/segment-source';
import type { HealthInputs } from '../ops/lifecycle';
import type { CollectorShard } from './collector-shard';

export interface ShardSet extends HealthInputs {
  readonly count: number;
  /** Instance ids of the WAL shards. */
  readonly instanceIds: readonly string[];
  readonly segments: SegmentSource;
  /** Starts serving on host:port; resolves with the port (the same for every shard). */
  listen(host: string, port: number): Promise<number>;
  snapshots(): Promise<ShardSnapshot[]>;
  stopListening(): void;
  /** Answers what is in flight, seals and syncs every WAL shard. */
  close(): Promise<void>;
  /** Releases what close() left running (after the shipper's drain). */
  terminate(): Promise<void>;
  /** Answers the next requests with the reloadable part of a new collector configuration. */
  reload(collector: CollectorConfig): void;
}

export class LocalShards implements ShardSet {
  readonly count = 1;
  readonly instanceIds: readonly string[];
  readonly segments: SegmentSource;

  constructor(readonly shard: CollectorShard, private readonly loop: LoopDelayMonitor) {
    this.instanceIds = [shard.wal.instanceId];
    this.segments = walSegmentSource(shard.wal);
  }

  listen(host: string, port: number): Promise<number> {
    return this.shard.listen(host, port);
  }

  snapshots(): Promise<ShardSnapshot[]> {
    return Promise.resolve([this.shard.snapshot(this.loop)]);
  }

  walRefusal(): string | null {
    return this.shard.wal.refusal();
  }

  sinkHealthy(): boolean {
    return this.shard.wal.healthy();
  }

  loopDelayMs(): number {
    return this.loop.lastSecondMaxDelayMs;
  }

  stopListening(): void {
    this.shard.stopListening();
  }

  close(): Promise<void> {
    return this.shard.close();
  }

  terminate(): Promise<void> {
    return Promise.resolve();
  }

  reload(collector: CollectorConfig): void {
    this.shard.reload(collector);
  }
}
