/** What a WriteAheadLog is opened with, and what it reports. */
import type { Durability } from '../config/types';
import type { CommitPacing, LoopSync, SyncListener } from './group-commit';
import type { EventTimeOf, RecoveryLog } from './recovery';
import type { SegmentHolder } from './segment-release';

export interface WalOptions {
  dir: string;
  durability: Durability;
  segmentBytes: number;
  maxSegmentAgeMs: number;
  maxPendingRecords: number;
  maxUnshippedBytes: number;
  minFreeBytes: number;
  maxSyncLatencyMs: number;
  /** Spare segment files kept ready for the next rolls (written at start), at least 1. */
  spareSegments: number;
  /** Shipped segment files kept as spares at most (reused in place with their mapping). */
  recycleSegments: number;
  /** Commit delay of small groups (see GroupCommit); none when absent. */
  commitPacing?: CommitPacing;
  /** Small groups synced on the event loop (see GroupCommit); none when absent. */
  loopSync?: LoopSync;
  /** Fault injection (tests): delay before each sync, read at every sync. */
  syncDelayMs?: () => number;
  log: RecoveryLog;
  /** The sinks that must each be done with a sealed segment before it is released; ['s3'] when absent. */
  holders?: readonly SegmentHolder[];
  /** Hears of appends and syncs (metrics). */
  observer?: WalObserver;
  /** Event time of a record, to date segments recovered after a crash. */
  eventTimeOf?: EventTimeOf;
}

export interface WalObserver {
  /** One submit appended `good` and `bad` records of `bytes` in total, taking `us` microseconds. */
  appended(good: number, bad: number, bytes: number, us: number): void;
  synced: SyncListener;
}

/** Counters of the WAL's life in this process. */
export interface WalCounters {
  segmentsSealed: number;
  segmentsReleased: number;
  /** Released segments whose file became a spare instead of being deleted. */
  segmentsRecycled: number;
  refusedSubmits: number;
}
