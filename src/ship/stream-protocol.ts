/** What the stream thread is started with and the messages between it and the main thread. */
import type { Processor } from '../payload/bad-row';
import type { KinesisSettings } from './kinesis-client';
import type { Backoff, SenderStats } from './stream-sender';

export interface StreamSideData {
  stream: string;
  kinesis: KinesisSettings;
  backoff: Backoff;
  /** The bad stream is reached with the good stream's client (same endpoint, region, keys). */
  sameClient: boolean;
}

export interface StreamWorkerData {
  walDir: string;
  instanceId: string;
  readChunkBytes: number;
  good: StreamSideData;
  bad: StreamSideData;
  batchRecords: number;
  batchBytes: number;
  maxInFlightBatches: number;
  startupCheckIntervalMs: number;
  rules: { goodMaxBytes: number; ipAsPartitionKey: boolean; processor: Processor };
  /** The durable mark of the open segment (durable-mark.ts). */
  mark: SharedArrayBuffer;
  /** Sealed segments in the WAL at start: length and first event time (ms since the epoch). */
  sealed: Array<{ seq: number; bytes: number; firstMs: number }>;
  open: { seq: number; durableBytes: number };
}

export interface StreamStats extends SenderStats {
  /** Both streams answered the start-up check. */
  ready: boolean;
  /** Why the start-up check has not passed yet (null once it has). */
  streamProblem: string | null;
  lagMs: number;
  lagBytes: number;
}

export type ToStream =
  | { type: 'sealed'; seq: number; bytes: number }
  | { type: 'drain' }
  | { type: 'stop' };

export type FromStream =
  | { type: 'stats'; stats: StreamStats }
  | { type: 'released'; seq: number }
  | { type: 'drained'; stats: StreamStats }
  | { type: 'stopped'; stats: StreamStats }
  | { type: 'log'; level: 'info' | 'warn'; obj: object; msg: string }
  | { type: 'fatal'; message: string };
