/**
 * The requests whose records wait to be durable, oldest first: they are mostly answered in this
 * order (group commit), so the queue releases answered entries at its head and the response
 * timeout looks only at the oldest. Bounded by the WAL's maxPendingRecords and the serializer's
 * queue: a request enters only once its records were accepted for storing.
 */

/** Entries released at the head before the array is compacted. */
const COMPACT_AFTER = 4096;

/** What the queue needs of a request (an Exchange). */
export interface Queued {
  /** In the queue (set and cleared by it). */
  queued: boolean;
  /** performance.now() when the request came. */
  readonly startedAt: number;
}

export class AckQueue<T extends Queued> {
  private entries: Array<T | undefined> = [];
  private head = 0;
  private count = 0;

  /** Requests queued and not answered. */
  get size(): number {
    return this.count;
  }

  add(ex: T): void {
    ex.queued = true;
    this.count++;
    this.entries.push(ex);
  }

  /** Marks a request answered and releases answered ones at the head. No-op when not queued. */
  remove(ex: T): void {
    if (!ex.queued) return;
    ex.queued = false;
    this.count--;
    const w = this.entries;
    let head = this.head;
    while (head < w.length && !w[head]!.queued) w[head++] = undefined;
    if (head === w.length) {
      this.entries = [];
      head = 0;
    } else if (head > COMPACT_AFTER && head * 2 > w.length) {
      this.entries = w.slice(head);
      head = 0;
    }
    this.head = head;
  }

  /** Queued requests started before `startedBefore` (performance.now()), oldest first. */
  olderThan(startedBefore: number): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const ex = this.entries[i];
      if (ex === undefined || !ex.queued) continue;
      if (ex.startedAt >= startedBefore) break;
      out.push(ex);
    }
    return out;
  }
}
