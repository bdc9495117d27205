/**
 * Shipper: takes sealed segments in sequence order, builds their files, uploads and verifies
 * them, and reports each segment shipped only when every object is confirmed. At most
 * `concurrency` segments are in progress. A segment whose upload fails `retry.maxAttempts` times
 * waits `retry.maxDelayMs` and starts over; nothing is ever dropped.
 */
import { strict as assert } from 'node:assert';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Outbox } from './outbox';
import { segmentId, type SegmentRef, type ShipPlan } from './ship-plan';
import { shipSegment, type ShippedInfo } from './ship-segment';

export type { ShippedInfo } from './ship-segment';

export interface ShipperOptions extends ShipPlan {
  client: S3Client;
  /** One slot per segment in progress: `concurrency` slots. */
  outbox: Outbox;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  onShipped(info: ShippedInfo): void;
}

export interface ShipperStats {
  queued: number;
  inProgress: number;
  shipped: number;
  retries: number;
  failedRounds: number;
  bytes: number;
  lastError: string | null;
}

function before(a: SegmentRef, b: SegmentRef): boolean {
  return a.firstMs !== b.firstMs ? a.firstMs < b.firstMs : a.seq < b.seq;
}

export class Shipper {
  private readonly queue: SegmentRef[] = [];
  /** Segments queued or in progress, by segmentId. */
  private readonly known = new Set<string>();
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  readonly stats: ShipperStats = { queued: 0, inProgress: 0, shipped: 0, retries: 0, failedRounds: 0, bytes: 0, lastError: null };

  constructor(private readonly o: ShipperOptions) {
    assert(o.outbox.slots >= o.concurrency, `an outbox slot for each of the ${o.concurrency} segments shipped at once`);
  }

  enqueue(seg: SegmentRef): void {
    const id = segmentId(seg);
    if (this.known.has(id)) return;
    this.known.add(id);
    this.insert(seg);
    this.pump();
  }

  /** Queues a known segment, oldest first: by first event, then sequence (shards interleave by time). */
  private insert(seg: SegmentRef): void {
    let i = this.queue.length;
    while (i > 0 && before(seg, this.queue[i - 1]!)) i--;
    this.queue.splice(i, 0, seg);
  }

  /** Nothing known is unshipped: a segment waiting to be retried still counts. */
  private get idle(): boolean {
    return this.known.size === 0;
  }

  /** Segments being shipped (at most `concurrency`). */
  private active: SegmentRef[] = [];

  private pump(): void {
    while (!this.stopped && this.active.length < this.o.concurrency && this.queue.length > 0) {
      const seg = this.queue.shift()!;
      this.active.push(seg);
      void this.ship(seg);
    }
    this.stats.queued = this.queue.length;
    this.stats.inProgress = this.active.length;
    if (this.idle) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private async ship(seg: SegmentRef): Promise<void> {
    const slot = this.o.outbox.acquire();
    assert(slot !== null, 'a free outbox slot for every segment in progress');
    let info: ShippedInfo;
    try {
      info = await shipSegment(seg, this.o, this.o.client, slot.placer, {
        onRetry: (key, attempt, err, delay) => {
          this.stats.retries++;
          this.stats.lastError = err.message;
          this.o.log.warn({ key, attempt, delayMs: delay, err: err.message }, 'upload failed, retrying');
        },
      });
    } catch (e) {
      this.o.outbox.release(slot);
      this.stats.failedRounds++;
      this.stats.lastError = (e as Error).message;
      this.o.log.warn({ seq: seg.seq, err: (e as Error).message, retryInMs: this.o.retry.maxDelayMs }, 'segment not shipped; will retry');
      // The segment stays known (unshipped) while it waits: a drain must not see it as done.
      setTimeout(() => {
        this.active = this.active.filter((s) => s !== seg);
        if (!this.stopped) this.insert(seg);
        this.pump();
      }, this.o.retry.maxDelayMs).unref();
      return;
    }
    // The slot is free before the next segment starts (finish pumps the queue).
    this.o.outbox.release(slot);
    this.stats.shipped++;
    this.stats.bytes += info.bytes;
    this.known.delete(segmentId(seg));
    this.o.onShipped(info);
    this.finish(seg);
  }

  private finish(seg: SegmentRef): void {
    this.active = this.active.filter((s) => s !== seg);
    this.pump();
  }

  /** Resolves when every known segment is shipped, or after `ms`; true when idle. */
  waitIdle(ms: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => { clearTimeout(timer); resolve(true); });
    });
  }

  stop(): void {
    this.stopped = true;
  }
}
