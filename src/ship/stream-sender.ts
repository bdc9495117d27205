/**
 * The stream sink's engine: reads durable WAL records (WalTail) a batch at a time, puts each batch
 * with PutRecords (good and bad streams), retries only the records a call failed, with bounded
 * exponential backoff and full jitter, forever (the WAL holds them meanwhile), and checkpoints the
 * end of the confirmed prefix of batches. A sealed segment is released once a synced checkpoint is
 * past it. At most `maxInFlightBatches` batches are out at once (the memory bound) and twice that
 * since the confirmed prefix (the bound on what a crash can send twice).
 */
import { strict as assert } from 'node:assert';
import type { PutOutcome, StreamClient, StreamEntry } from './kinesis-client';
import { comparePositions, type StreamCheckpoint, type WalPosition } from './stream-checkpoint';
import { type EntryRules, streamParts } from './stream-entries';
import { LagClock } from './stream-lag';
import type { WalTail } from './wal-tail';

export interface SenderOptions {
  goodStream: string;
  badStream: string;
  /** Records and payload bytes of one PutRecords call at most (within Kinesis' 500 and 5 MiB). */
  batchRecords: number;
  batchBytes: number;
  maxInFlightBatches: number;
  backoff: Readonly<Record<StreamSide, Backoff>>;
  rules: EntryRules;
}

export type StreamSide = 'good' | 'bad';

export interface Backoff {
  minMs: number;
  maxMs: number;
  /** Failed attempts in a row after which the sink reports itself unhealthy (it keeps retrying). */
  maxRetries: number;
}

export interface SenderStats {
  recordsPut: { good: number; bad: number };
  calls: number;
  retries: number;
  throttled: number;
  failedCalls: number;
  sizeViolations: number;
  /** Records sent again after a restart (between the checkpoint and the previous run's furthest send). */
  resent: number;
  checkpoint: WalPosition | null;
  inFlightBatches: number;
  /** Consecutive failed attempts of the batch failing longest (0 while puts succeed). */
  failingAttempts: number;
  /** failingAttempts reached the side's backoffPolicy.maxRetries. */
  failing: boolean;
  lastError: string | null;
  lastPutAtMs: number | null;
}

interface Part {
  kind: StreamSide;
  stream: string;
  pending: StreamEntry[];
  attempts: number;
}

interface Batch {
  end: WalPosition;
  segmentDone: boolean;
  parts: Part[];
  done: boolean;
}

const KINESIS_MAX_RECORDS = 500;
const KINESIS_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export class StreamSender {
  readonly stats: SenderStats = {
    recordsPut: { good: 0, bad: 0 }, calls: 0, retries: 0, throttled: 0, failedCalls: 0, sizeViolations: 0, resent: 0,
    checkpoint: null, inFlightBatches: 0, failingAttempts: 0, failing: false, lastError: null, lastPutAtMs: null,
  };
  private readonly inFlight: Batch[] = [];
  /** End of the confirmed prefix, and segments it completed, not yet in a synced checkpoint. */
  private confirmed: WalPosition | null;
  private doneSegments: number[] = [];
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readError: Error | null = null;
  private idleWaiters: Array<() => void> = [];
  readonly lag = new LagClock();

  constructor(
    private readonly tail: WalTail,
    private readonly checkpoint: StreamCheckpoint,
    private readonly clients: Readonly<Record<StreamSide, StreamClient>>,
    private readonly o: SenderOptions,
    /** Segments every record of which is in the stream and in a synced checkpoint. */
    private readonly onReleased: (seq: number) => void,
    private readonly resendUntil: WalPosition | null,
  ) {
    assert(o.batchRecords >= 1 && o.batchRecords <= KINESIS_MAX_RECORDS, `batch records ${o.batchRecords} outside 1..${KINESIS_MAX_RECORDS}`);
    assert(o.batchBytes >= 1 && o.batchBytes <= KINESIS_MAX_REQUEST_BYTES, `batch bytes ${o.batchBytes} outside Kinesis' request limit`);
    assert(o.maxInFlightBatches >= 1, 'at least one batch in flight');
    this.confirmed = checkpoint.confirmed;
    this.stats.checkpoint = checkpoint.confirmed;
  }

  /** Reads and sends while batch slots are free. Call after new durable bytes or a confirmation. */
  pump(): void {
    if (this.stopped || this.readError !== null) return;
    // Batches out are bounded; a batch confirmed behind a slower one waits in the window (its
    // records already released), up to as many again, so one slow call does not stall the rest.
    while (this.outstanding() < this.o.maxInFlightBatches && this.inFlight.length < 2 * this.o.maxInFlightBatches) {
      let read;
      try {
        // Partition keys count toward Kinesis' request limit: keep room for 64 bytes per record.
        read = this.tail.read({ records: this.o.batchRecords, bytes: Math.max(1, this.o.batchBytes - this.o.batchRecords * 64) });
      } catch (e) {
        this.readError = e as Error;
        this.stats.lastError = `cannot read the WAL: ${this.readError.message}`;
        this.stats.failing = true;
        return;
      }
      if (read === null) break;
      const parts = streamParts(read.kind, read.records, this.o.rules);
      this.stats.sizeViolations += parts.sizeViolations;
      // A batch starting before the previous run's furthest send may be in the stream already:
      // its records count as possible duplicates (all of them: an upper bound).
      if (this.resendUntil !== null && comparePositions(read.start, this.resendUntil) < 0) this.stats.resent += read.records.length;
      const batch: Batch = { end: read.end, segmentDone: read.segmentDone, done: false, parts: [] };
      if (parts.good.length > 0) batch.parts.push({ kind: 'good', stream: this.o.goodStream, pending: parts.good, attempts: 0 });
      if (parts.bad.length > 0) batch.parts.push({ kind: 'bad', stream: this.o.badStream, pending: parts.bad, attempts: 0 });
      this.inFlight.push(batch);
      this.checkpoint.markSent(read.end);
      if (batch.parts.length === 0) batch.done = true;
      for (const p of batch.parts) this.send(batch, p);
    }
    this.stats.inFlightBatches = this.outstanding();
    this.confirm();
  }

  /** Batches sent and not yet confirmed by the stream. */
  private outstanding(): number {
    let n = 0;
    for (const b of this.inFlight) if (!b.done) n++;
    return n;
  }

  private send(batch: Batch, part: Part): void {
    if (this.stopped) return;
    this.stats.calls++;
    const entries = part.pending;
    this.clients[part.kind].put(part.stream, entries).then((out: PutOutcome) => {
      const ok = entries.length - out.failed.length;
      this.stats.recordsPut[part.kind] += ok;
      this.stats.lastPutAtMs = Date.now();
      if (out.failed.length === 0) {
        part.pending = [];
        this.succeeded(batch, part);
        return;
      }
      this.stats.throttled += out.failed.filter((f) => f.code === 'ProvisionedThroughputExceededException').length;
      this.stats.lastError = `${out.failed.length} of ${entries.length} records failed (${out.failed[0]!.code})`;
      part.pending = out.failed.map((f) => entries[f.index]!);
      this.retryLater(batch, part);
    }, (e: unknown) => {
      const err = e as Error;
      this.stats.failedCalls++;
      this.stats.lastError = `PutRecords to ${part.stream} failed: ${err.name}: ${err.message}`;
      this.retryLater(batch, part);
    });
  }

  private retryLater(batch: Batch, part: Part): void {
    part.attempts++;
    this.stats.failingAttempts = Math.max(this.stats.failingAttempts, part.attempts);
    if (part.attempts >= this.o.backoff[part.kind].maxRetries) this.stats.failing = true;
    this.stats.retries++;
    const { minMs, maxMs } = this.o.backoff[part.kind];
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(part.attempts - 1, 30));
    const delay = minMs + Math.random() * Math.max(0, ceiling - minMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.send(batch, part);
    }, delay);
    this.timers.add(timer);
  }

  private succeeded(batch: Batch, part: Part): void {
    part.attempts = 0;
    const parts = this.inFlight.flatMap((b) => b.parts);
    this.stats.failingAttempts = Math.max(0, ...parts.map((p) => p.attempts));
    this.stats.failing = parts.some((p) => p.attempts >= this.o.backoff[p.kind].maxRetries);
    if (batch.parts.every((p) => p.pending.length === 0)) batch.done = true;
    this.confirm();
    this.pump();
  }

  /** Moves the confirmed prefix on and checkpoints it (one checkpoint write at a time). */
  private confirm(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      const b = this.inFlight.shift()!;
      this.confirmed = b.end;
      if (b.segmentDone) this.doneSegments.push(b.end.seq);
    }
    this.stats.inFlightBatches = this.outstanding();
    if (this.confirmed !== null) this.lag.confirmedUpTo(this.confirmed);
    this.writeCheckpoint();
    if (this.isIdle()) this.wakeIdle();
  }

  private writeCheckpoint(): void {
    const pos = this.confirmed;
    if (pos === null || this.checkpoint.busy || this.stopped) return;
    const last = this.stats.checkpoint;
    if (last !== null && last.seq === pos.seq && last.offset === pos.offset) return;
    const segments = this.doneSegments;
    this.doneSegments = [];
    this.checkpoint.commit(pos).then(() => {
      this.stats.checkpoint = pos;
      for (const seq of segments) this.onReleased(seq);
      this.writeCheckpoint();
      if (this.isIdle()) this.wakeIdle();
    }, (e: unknown) => {
      this.doneSegments = [...segments, ...this.doneSegments];
      this.stats.lastError = `cannot write the stream checkpoint: ${(e as Error).message}`;
      const timer = setTimeout(() => { this.timers.delete(timer); this.writeCheckpoint(); }, this.o.backoff.good.maxMs);
      this.timers.add(timer);
    });
  }

  /** Nothing in flight and every confirmation checkpointed. */
  isIdle(): boolean {
    if (this.inFlight.length > 0 || this.checkpoint.busy) return false;
    const c = this.confirmed;
    const k = this.stats.checkpoint;
    return c === null || (k !== null && k.seq === c.seq && k.offset === c.offset);
  }

  /** Resolves once everything readable now is in the stream and checkpointed. */
  whenIdle(): Promise<void> {
    this.pump();
    if (this.isIdle() && this.tail.unreadBytes() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    if (this.tail.unreadBytes() > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
