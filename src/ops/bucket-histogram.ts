/**
 * A Prometheus histogram: counts per fixed upper bound since start, and their sum. Unlike the
 * summaries' quantiles, buckets add up across instances and shards, so a fleet's p99 can be
 * computed (histogram_quantile over the sum of rates). The bounds are chosen for the ranges
 * measured in bench/RESULTS.md; values past the last land in +Inf only.
 */

export interface BucketSnapshot {
  /** Upper bounds, ascending, in the recorded unit. */
  bounds: readonly number[];
  /** Values at or below each bound and above the one before; one more entry for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** Request to acknowledgement, µs: from a fast disk's 0.25 ms to the 30 s response timeout. */
export const ACK_LATENCY_BOUNDS_US: readonly number[] = [250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000];
/** One group-commit sync, µs: 50 µs (a write-back cache) to seconds (a stalled volume). */
export const SYNC_LATENCY_BOUNDS_US: readonly number[] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000];
/** Tracker events in one request: a pixel is 1, tp2 batches are up to the tracker's buffer (often 10–100). */
export const EVENTS_PER_REQUEST_BOUNDS: readonly number[] = [1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1_000];

export class BucketHistogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new Error('histogram bounds must ascend');
    this.counts = new Float64Array(bounds.length + 1);
  }

  record(value: number): void {
    const b = this.bounds;
    // Linear: the bounds are few and most values fall in the first ones.
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  snapshot(): BucketSnapshot {
    return { bounds: this.bounds, counts: Array.from(this.counts), sum: this.sum, count: this.count };
  }
}

/** Adds snapshots of histograms with the same bounds (shards of one collector). */
export function mergeBuckets(xs: readonly BucketSnapshot[]): BucketSnapshot {
  const first = xs[0];
  if (first === undefined) throw new Error('mergeBuckets needs at least one snapshot');
  const counts = first.counts.map((_, i) => xs.reduce((n, x) => n + (x.counts[i] ?? 0), 0));
  return { bounds: first.bounds, counts, sum: xs.reduce((n, x) => n + x.sum, 0), count: xs.reduce((n, x) => n + x.count, 0) };
}
