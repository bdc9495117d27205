/** A WAL shard's figures: records and bytes appended, append and sync latency, group-commit size. */
import type { WalObserver, WriteAheadLog } from '../wal/write-ahead-log';
import type { WalSnapshot } from './metrics-snapshot';
import { WindowedHistogram } from './windowed-histogram';
import { BucketHistogram, SYNC_LATENCY_BOUNDS_US } from './bucket-histogram';

export class WalMetrics implements WalObserver {
  goodRecords = 0;
  badRecords = 0;
  bytes = 0;
  syncs = 0;
  loopSyncs = 0;
  readonly appendLatency = new WindowedHistogram();
  readonly syncLatency = new WindowedHistogram();
  readonly syncBuckets = new BucketHistogram(SYNC_LATENCY_BOUNDS_US);
  /** Requests answered by one sync. */
  readonly groupRequests = new WindowedHistogram();
  /** Records made durable by one sync. */
  readonly groupRecords = new WindowedHistogram();

  appended(good: number, bad: number, bytes: number, us: number): void {
    this.goodRecords += good;
    this.badRecords += bad;
    this.bytes += bytes;
    this.appendLatency.record(us);
  }

  readonly synced = (us: number, waiters: number, records: number, onLoop: boolean): void => {
    this.syncs++;
    if (onLoop) this.loopSyncs++;
    this.syncLatency.record(us);
    this.syncBuckets.record(us);
    if (waiters > 0) this.groupRequests.record(waiters);
    if (records > 0) this.groupRecords.record(records);
  };

  /** The shard's figures: these counters and the WAL's own state. */
  snapshot(wal: WriteAheadLog): WalSnapshot {
    const free = wal.freeDiskBytes;
    return {
      instanceId: wal.instanceId, goodRecords: this.goodRecords, badRecords: this.badRecords, bytes: this.bytes, syncs: this.syncs, loopSyncs: this.loopSyncs,
      appendLatency: this.appendLatency.snapshot(), syncLatency: this.syncLatency.snapshot(), syncBuckets: this.syncBuckets.snapshot(), groupRequests: this.groupRequests.snapshot(), groupRecords: this.groupRecords.snapshot(),
      pendingRecords: wal.pendingRecords, sealedSegments: wal.sealedSegments().length, segmentsSealed: wal.counters.segmentsSealed,
      segmentsReleased: wal.counters.segmentsReleased, segmentsRecycled: wal.counters.segmentsRecycled, sparesCreated: wal.sparesCreated, unshippedBytes: wal.unshippedBytes(), refused: wal.counters.refusedSubmits,
      freeDiskBytes: Number.isFinite(free) ? free : null, refusal: wal.refusal(),
    };
  }
}
