/**
 * The status page's memory: one sample per second of what its charts draw, kept on the server
 * for the last `admin.statusHistorySeconds`, so a page opened during an incident shows the minutes
 * before it was opened. A ring: fixed size, the oldest sample overwritten.
 */

/** What a sample is made of: the fields of the status snapshot the charts draw. */
export interface SampledStatus {
  at: number;
  goodRecords: number;
  badRecords: number;
  latencyMs: { p99: number };
  walBacklogBytes: number;
  shippingLagMs: number | null;
  streamLagMs: number | null;
  /** Answers since start by status class. */
  answers: { s408: number; s413: number; s503: number; otherErrors: number };
}

/** What one second of the charts needs; rates are per second over the interval before `at`. */
export interface HistorySample {
  at: number;
  recordsPerSecond: number | null;
  p99Ms: number;
  backlogBytes: number;
  shippingLagMs: number | null;
  streamLagMs: number | null;
  /** Answers per second by class: 408, 413, 503, and every other status of 400 or more. */
  non2xxPerSecond: { s408: number; s413: number; s503: number; other: number } | null;
}

export class StatusHistory {
  private readonly ring: Array<HistorySample | undefined>;
  private next = 0;
  private filled = 0;
  private prev: SampledStatus | null = null;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('StatusHistory needs a capacity of at least one sample');
    this.ring = new Array<HistorySample | undefined>(capacity);
  }

  /** Adds the sample for `s` (rates against the previous snapshot). */
  add(s: SampledStatus): HistorySample {
    const p = this.prev;
    const dt = p === null || s.at <= p.at ? 0 : (s.at - p.at) / 1000;
    const rate = (now: number, before: number): number => Math.max(0, now - before) / dt;
    const sample: HistorySample = {
      at: s.at,
      recordsPerSecond: dt === 0 || p === null ? null : rate(s.goodRecords + s.badRecords, p.goodRecords + p.badRecords),
      p99Ms: s.latencyMs.p99,
      backlogBytes: s.walBacklogBytes,
      shippingLagMs: s.shippingLagMs,
      streamLagMs: s.streamLagMs,
      non2xxPerSecond: dt === 0 || p === null ? null : {
        s408: rate(s.answers.s408, p.answers.s408), s413: rate(s.answers.s413, p.answers.s413),
        s503: rate(s.answers.s503, p.answers.s503), other: rate(s.answers.otherErrors, p.answers.otherErrors),
      },
    };
    this.prev = s;
    this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
    this.filled = Math.min(this.capacity, this.filled + 1);
    return sample;
  }

  /** Every sample kept, oldest first. */
  samples(): HistorySample[] {
    const out: HistorySample[] = [];
    const start = this.filled < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.filled; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }
}
