/**
 * Plain-data snapshots of one shard's figures (an HTTP worker with its WAL shard), so they can
 * cross from HTTP workers to the main process, and their merge: counts and sums add up; with
 * several shards a quantile is the largest of the shards' (an upper bound, never an average).
 */
import type { HistogramSnapshot } from './windowed-histogram';
import { type BucketSnapshot, mergeBuckets } from './bucket-histogram';
import type { Endpoint } from './endpoints';

export interface RequestsSnapshot {
  /** [endpoint, method, status, count]. */
  answers: Array<[Endpoint, string, number, number]>;
  aborts: Record<string, number>;
  /** TCP connections open now, and closed at the connection cap since start. */
  connections: { open: number; refused: number; evicted: number };
  bodyBytes: number;
  acknowledged: number;
  ackLatency: HistogramSnapshot;
  /** The newest 10–20 s (the status page's p99). */
  ackRecent: HistogramSnapshot;
  /** Request to acknowledgement since start, in the exposition's fixed buckets (µs). */
  ackBuckets: BucketSnapshot;
  /** Tracker events per acknowledged request. */
  events: BucketSnapshot;
}

export interface WalSnapshot {
  instanceId: string;
  goodRecords: number;
  badRecords: number;
  bytes: number;
  syncs: number;
  /** Syncs whose fdatasyncs ran on the event loop (small groups, fast device). */
  loopSyncs: number;
  appendLatency: HistogramSnapshot;
  syncLatency: HistogramSnapshot;
  syncBuckets: BucketSnapshot;
  groupRequests: HistogramSnapshot;
  groupRecords: HistogramSnapshot;
  pendingRecords: number;
  sealedSegments: number;
  segmentsSealed: number;
  segmentsReleased: number;
  segmentsRecycled: number;
  sparesCreated: number;
  unshippedBytes: number;
  refused: number;
  freeDiskBytes: number | null;
  /** Why the shard refuses records now, or null. */
  refusal: string | null;
}

export interface ShardSnapshot {
  requests: RequestsSnapshot;
  wal: WalSnapshot;
  loopDelay: HistogramSnapshot;
  /** Largest event-loop delay of the shard's thread in the last second, ms. */
  loopDelayLastMs: number;
}

export function mergeHistograms(xs: readonly HistogramSnapshot[]): HistogramSnapshot {
  const max = (k: keyof HistogramSnapshot): number => xs.reduce((m, x) => Math.max(m, x[k]), 0);
  const sum = (k: keyof HistogramSnapshot): number => xs.reduce((n, x) => n + x[k], 0);
  return { count: sum('count'), sum: sum('sum'), windowCount: sum('windowCount'), p50: max('p50'), p90: max('p90'), p99: max('p99'), p999: max('p999'), max: max('max') };
}

export function mergeShards(xs: readonly ShardSnapshot[]): ShardSnapshot {
  if (xs.length === 1) return xs[0]!;
  const answers = new Map<string, [Endpoint, string, number, number]>();
  const aborts: Record<string, number> = {};
  for (const x of xs) {
    for (const [e, m, s, n] of x.requests.answers) {
      const k = `${e} ${m} ${s}`;
      const a = answers.get(k);
      if (a === undefined) answers.set(k, [e, m, s, n]); else a[3] += n;
    }
    for (const [e, n] of Object.entries(x.requests.aborts)) aborts[e] = (aborts[e] ?? 0) + n;
  }
  const add = (f: (x: ShardSnapshot) => number): number => xs.reduce((n, x) => n + f(x), 0);
  const hist = (f: (x: ShardSnapshot) => HistogramSnapshot): HistogramSnapshot => mergeHistograms(xs.map(f));
  const frees = xs.map((x) => x.wal.freeDiskBytes).filter((v): v is number => v !== null);
  const refusals = xs.map((x, i) => (x.wal.refusal === null ? null : `shard ${i}: ${x.wal.refusal}`)).filter((r): r is string => r !== null);
  return {
    requests: {
      answers: [...answers.values()], aborts,
      connections: { open: add((x) => x.requests.connections.open), refused: add((x) => x.requests.connections.refused), evicted: add((x) => x.requests.connections.evicted) },
      bodyBytes: add((x) => x.requests.bodyBytes), acknowledged: add((x) => x.requests.acknowledged),
      ackLatency: hist((x) => x.requests.ackLatency), ackRecent: hist((x) => x.requests.ackRecent),
      ackBuckets: mergeBuckets(xs.map((x) => x.requests.ackBuckets)), events: mergeBuckets(xs.map((x) => x.requests.events)),
    },
    wal: {
      instanceId: xs.map((x) => x.wal.instanceId).join(','),
      goodRecords: add((x) => x.wal.goodRecords), badRecords: add((x) => x.wal.badRecords), bytes: add((x) => x.wal.bytes), syncs: add((x) => x.wal.syncs), loopSyncs: add((x) => x.wal.loopSyncs),
      appendLatency: hist((x) => x.wal.appendLatency), syncLatency: hist((x) => x.wal.syncLatency), syncBuckets: mergeBuckets(xs.map((x) => x.wal.syncBuckets)), groupRequests: hist((x) => x.wal.groupRequests), groupRecords: hist((x) => x.wal.groupRecords),
      pendingRecords: add((x) => x.wal.pendingRecords), sealedSegments: add((x) => x.wal.sealedSegments), segmentsSealed: add((x) => x.wal.segmentsSealed),
      segmentsReleased: add((x) => x.wal.segmentsReleased), segmentsRecycled: add((x) => x.wal.segmentsRecycled), sparesCreated: add((x) => x.wal.sparesCreated), unshippedBytes: add((x) => x.wal.unshippedBytes), refused: add((x) => x.wal.refused),
      freeDiskBytes: frees.length === 0 ? null : Math.min(...frees),
      refusal: refusals.length === 0 ? null : refusals.join('; '),
    },
    loopDelay: hist((x) => x.loopDelay),
    loopDelayLastMs: Math.max(...xs.map((x) => x.loopDelayLastMs)),
  };
}
