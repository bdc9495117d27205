/**
 * A distribution of positive integers (latencies in microseconds, group sizes) on HDR histograms
 * (hdr-histogram-js, 3 significant digits): a cumulative count and sum since start, and
 * percentiles and maximum over a sliding window of the last `slots × slotMs` (the window moves
 * by whole slots, so old spikes leave it).
 */
import * as hdr from 'hdr-histogram-js';

/** One hour in microseconds: larger values are clamped (and still counted). */
const HIGHEST = 3_600_000_000;

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST, numberOfSignificantValueDigits: 3 });
}

export interface HistogramSnapshot {
  /** Values recorded since start. */
  count: number;
  /** Sum of every value since start. */
  sum: number;
  /** Percentiles (and max) of the sliding window; 0 when it is empty. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  windowCount: number;
}

export class WindowedHistogram {
  private readonly slots: hdr.Histogram[];
  private current = 0;
  private slotStartedAt: number;
  private count = 0;
  private sum = 0;
  private readonly merged = newHistogram();

  constructor(private readonly slotMs = 10_000, slotCount = 6, private readonly clock: () => number = Date.now) {
    if (slotCount < 1 || slotMs <= 0) throw new Error('LatencyHistogram needs at least one slot of positive length');
    this.slots = Array.from({ length: slotCount }, newHistogram);
    this.slotStartedAt = clock();
  }

  /** Records one value (fractions are rounded; below 1 counts as 1, above an hour in µs is clamped). */
  record(value: number): void {
    const v = value < 1 ? 1 : value > HIGHEST ? HIGHEST : Math.round(value);
    this.advance(this.clock());
    this.slots[this.current]!.recordValue(v);
    this.count++;
    this.sum += v;
  }

  private advance(now: number): void {
    let elapsed = now - this.slotStartedAt;
    if (elapsed < this.slotMs) return;
    // Move by whole slots, resetting each slot entered (at most all of them).
    let steps = 0;
    while (elapsed >= this.slotMs && steps < this.slots.length) {
      this.current = (this.current + 1) % this.slots.length;
      this.slots[this.current]!.reset();
      elapsed -= this.slotMs;
      steps++;
    }
    this.slotStartedAt = now - (elapsed % this.slotMs);
  }

  /** The whole window, or only the newest `slots` slots (the current one and those before it). */
  snapshot(slots = this.slots.length): HistogramSnapshot {
    this.advance(this.clock());
    const m = this.merged;
    m.reset();
    const n = Math.min(Math.max(1, slots), this.slots.length);
    for (let k = 0; k < n; k++) {
      const s = this.slots[(this.current - k + this.slots.length) % this.slots.length]!;
      if (s.totalCount > 0) m.add(s);
    }
    const empty = m.totalCount === 0;
    const max = empty ? 0 : m.maxValue;
    // HDR reports the top of a value's bucket; no quantile is above the largest value recorded.
    const at = (p: number): number => (empty ? 0 : Math.min(m.getValueAtPercentile(p), max));
    return {
      count: this.count,
      sum: this.sum,
      p50: at(50), p90: at(90), p99: at(99), p999: at(99.9),
      max,
      windowCount: m.totalCount,
    };
  }
}
