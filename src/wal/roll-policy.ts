/**
 * When the open segment rolls (as Kafka's LogSegment.shouldRoll): on size, when the next
 * request's frames do not fit with room left for the footer, and on age, when its first record
 * is older than the roll age. Ages are on the monotonic clock: a wall-clock step must not hold a
 * roll or force one.
 */
import { FRAME_HEADER_BYTES } from './segment-format';

/** What the policy looks at of the open segment. */
export interface OpenSegmentView {
  /** Records in it. */
  readonly records: number;
  /** Bytes used (header and frames). */
  readonly size: number;
  /** True when a payload of this many bytes still fits with the footer. */
  fits(payloadBytes: number): boolean;
}

export class RollPolicy {
  constructor(readonly segmentBytes: number, readonly maxAgeMs: number) {}

  /**
   * The roll age of a WAL whose segments are shipped within `shipIntervalMs`: early enough for
   * the upload (an allowance of a fifth of the interval, at most 5 s) to finish in time.
   */
  static rollAgeMs(maxSegmentAgeMs: number, shipping: boolean, shipIntervalMs: number): number {
    return shipping ? Math.min(maxSegmentAgeMs, shipIntervalMs - Math.min(5000, shipIntervalMs * 0.2)) : maxSegmentAgeMs;
  }

  /** The frames of `records` records of `payloadBytes` in all do not fit: roll first. */
  dueBySize(seg: OpenSegmentView, payloadBytes: number, records: number): boolean {
    return !seg.fits(payloadBytes + records * FRAME_HEADER_BYTES);
  }

  /** The segment has records and the first is older than the roll age. */
  dueByAge(seg: OpenSegmentView, firstAppendMono: number, nowMono: number): boolean {
    return seg.records > 0 && nowMono - firstAppendMono >= this.maxAgeMs;
  }

  /** How far the segment is to its roll, 0..1 and beyond: the larger of its fill and its age. */
  progress(seg: OpenSegmentView, firstAppendMono: number, nowMono: number): number {
    const age = seg.records > 0 ? (nowMono - firstAppendMono) / this.maxAgeMs : 0;
    return Math.max(seg.size / this.segmentBytes, age);
  }
}
