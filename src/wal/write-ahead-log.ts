/**
 * The write-ahead log: recovery at open, one open memory-mapped segment taking appends, rolls on
 * size and age onto a preallocated spare, group commit for durability, and backpressure: while
 * the WAL cannot promise durability (free disk under the floor, unshipped bytes over the cap,
 * syncs slower than the bound, no room to roll, a failed sync) it refuses records, so the front
 * end answers 503 and /health says why. It accepts again by itself once the condition clears.
 */
import { strict as assert } from 'node:assert';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statfs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { basename, join } from 'node:path';
import type { Durability } from '../config/types';
import { type CommitPacing, GroupCommit, type LoopSync, type SyncListener } from './group-commit';
import { Preallocator, type Spare, spareFillPace } from './preallocator';
import type { CommitWaiter, RecordSink } from './record-sink';
import { type EventTimeOf, recoverWal, type RecoveryLog, type RecoveryReport, type SealedSegment } from './recovery';
import { FrameKind, type SegmentHeader } from './segment-format';
import { SegmentWriter } from './segment-writer';
import { writeWalState } from './wal-state';

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

const CHECK_MS = 250;
/** Sequence numbers reserved per state-file write. */
const SEQ_RESERVATION = 1024;

export class WriteAheadLog implements RecordSink {
  readonly name = 'wal';
  readonly instanceId: string;
  readonly recovery: RecoveryReport;
  private nextSeq: number;
  /** Sequence numbers below this one are recorded as used in the state file. */
  private reservedSeq: number;
  private active: SegmentWriter;
  private readonly sealed: SealedSegment[];
  private readonly commit: GroupCommit;
  private readonly prealloc: Preallocator;
  private readonly dirFd: number;
  private readonly timer: NodeJS.Timeout;
  private freeBytes = Number.POSITIVE_INFINITY;
  private activeFirstMono = 0;
  /** Bytes appended since start, and at the last check (for the append rate that paces spares). */
  private appendedBytes = 0;
  private checkedBytes = 0;
  private checkedAt = performance.now();
  private failure: Error | null = null;
  private closing = false;
  /** A roll's sync is running; the next spare waits for it (see roll). */
  private rollSyncing = false;
  /** Sequence number of the last segment opened (segments open in order). */
  private lastOpenedSeq = -1;
  private readonly sealedListeners: Array<(s: SealedSegment) => void> = [];
  /** Mappings of sealed segments sealed by this process, kept for recycling, by sequence number. */
  private readonly sealedMaps = new Map<number, Buffer>();
  readonly counters: WalCounters = { segmentsSealed: 0, segmentsReleased: 0, segmentsRecycled: 0, refusedSubmits: 0 };

  private constructor(private readonly opts: WalOptions, report: RecoveryReport) {
    this.recovery = report;
    this.instanceId = report.instanceId;
    this.nextSeq = report.nextSeq;
    this.reservedSeq = report.nextSeq;
    this.sealed = [...report.sealed];
    this.dirFd = openSync(opts.dir, 'r');
    this.commit = new GroupCommit(this.dirFd, (err) => {
      if (this.failure !== null) return;
      this.failure = err;
      opts.log.warn({ err: err.message }, 'WAL sync failed: refusing records until restart');
    }, { syncDelayMs: opts.syncDelayMs, onSynced: opts.observer?.synced, pacing: opts.commitPacing, loopSync: opts.loopSync });
    this.prealloc = new Preallocator(opts.dir, opts.segmentBytes, opts.spareSegments, opts.recycleSegments, () => this.claimSegment());
    // The first segment and the spares are written synchronously at start (nothing is served yet),
    // so the first roll never waits for the spare thread to boot, and the first rolls need no new
    // file written while events are acknowledged: shipped segments come back meanwhile.
    this.prealloc.fillNowSync();
    this.active = this.openSegment(this.prealloc.take());
    for (let i = 0; i < opts.spareSegments; i++) this.prealloc.fillNowSync();
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
    this.check();
  }

  /** Recovers the directory and opens a fresh segment. */
  static open(opts: WalOptions): WriteAheadLog {
    const minimum = SegmentWriter.maxPayload(opts.segmentBytes);
    if (minimum < 1024) throw new Error(`wal.segmentBytes ${opts.segmentBytes} is too small`);
    const report = recoverWal(opts.dir, opts.log, opts.eventTimeOf ?? null);
    return new WriteAheadLog(opts, report);
  }

  /** The next segment's header: a spare claims it when its preparation starts. */
  private claimSegment(): SegmentHeader {
    const seq = this.nextSeq++;
    if (this.nextSeq > this.reservedSeq) {
      // Sequence numbers are reserved in blocks: the state (two syncs on this thread) is written
      // once per SEQ_RESERVATION segments, not for every one. A restart skips what was left unused.
      this.reservedSeq = this.nextSeq + SEQ_RESERVATION;
      writeWalState(this.opts.dir, { instanceId: this.instanceId, nextSeq: this.reservedSeq });
    }
    return { instanceId: this.instanceId, seq, createdMs: Date.now(), capacity: this.opts.segmentBytes };
  }

  /** Starts writing into a ready spare: already named and synced, so nothing is renamed here. */
  private openSegment(spare: Spare): SegmentWriter {
    assert(spare.header.seq > this.lastOpenedSeq, `segments open in sequence order (${spare.header.seq} after ${this.lastOpenedSeq})`);
    this.lastOpenedSeq = spare.header.seq;
    return new SegmentWriter(spare.path, { ...spare.header, createdMs: Date.now() }, spare.map);
  }

  onSealed(listener: (s: SealedSegment) => void): void {
    this.sealedListeners.push(listener);
  }

  /** Sealed, synced segments not yet released (oldest first). */
  sealedSegments(): readonly SealedSegment[] {
    return this.sealed;
  }

  /**
   * Forgets a shipped segment: moves its file to `archiveDir`; when null, recycles it as a spare
   * (while fewer than `recycleSegments` are kept and its mapping is still held) or deletes it.
   */
  release(seq: number, archiveDir: string | null = null): void {
    const i = this.sealed.findIndex((s) => s.seq === seq);
    if (i < 0) return;
    const [s] = this.sealed.splice(i, 1);
    const map = this.sealedMaps.get(seq) ?? null;
    this.sealedMaps.delete(seq);
    this.counters.segmentsReleased++;
    if (archiveDir === null) {
      if (map !== null && !this.closing && this.prealloc.recycle(s!.path, map, seq)) this.counters.segmentsRecycled++;
      else rmSync(s!.path, { force: true });
    } else {
      mkdirSync(archiveDir, { recursive: true });
      renameSync(s!.path, join(archiveDir, basename(s!.path)));
    }
    this.commit.touchDir();
  }

  /**
   * performance.now() of the open segment's first append, null when it has none. Ages are
   * measured on the monotonic clock: a wall-clock step must not hold a roll or hide a lag.
   */
  openSegmentFirstMono(): number | null {
    return this.active.records > 0 ? this.activeFirstMono : null;
  }

  /** New spare segment files started by this process (at start and since): see wal.spareSegments. */
  get sparesCreated(): number {
    return this.prealloc.created;
  }

  /** Free bytes on the WAL's file system at the last check (Infinity before the first). */
  get freeDiskBytes(): number {
    return this.freeBytes;
  }

  /** Records appended and not yet covered by a completed sync. */
  get pendingRecords(): number {
    return this.commit.pendingRecords;
  }

  /** Bytes in sealed segments plus the open one: what is not shipped yet. */
  unshippedBytes(): number {
    let n = this.active.size;
    for (const s of this.sealed) n += s.bytes;
    return n;
  }

  /** Null while records are accepted, else why not. */
  refusal(): string | null {
    if (this.failure !== null) return `WAL sync failed: ${this.failure.message}`;
    if (this.closing) return 'WAL closing';
    const spareError = this.prealloc.error;
    if (!this.prealloc.available && spareError !== null) return `cannot preallocate the next segment: ${(spareError as NodeJS.ErrnoException).code ?? spareError.message}`;
    if (this.freeBytes < this.opts.minFreeBytes) return `free disk ${this.freeBytes} bytes is below the floor of ${this.opts.minFreeBytes}`;
    const unshipped = this.unshippedBytes();
    if (unshipped > this.opts.maxUnshippedBytes) return `unshipped WAL bytes ${unshipped} exceed the cap of ${this.opts.maxUnshippedBytes}`;
    const running = this.commit.runningMs();
    if (running > this.opts.maxSyncLatencyMs) return `a WAL sync has been running for ${Math.round(running)} ms (bound ${this.opts.maxSyncLatencyMs} ms)`;
    const last = this.commit.stats.lastSyncMs;
    if (last > this.opts.maxSyncLatencyMs) return `the last WAL sync took ${Math.round(last)} ms (bound ${this.opts.maxSyncLatencyMs} ms)`;
    return null;
  }

  healthy(): boolean {
    return this.refusal() === null;
  }

  submit(good: readonly Buffer[], bad: readonly Buffer[], waiter: CommitWaiter): boolean {
    const n = good.length + bad.length;
    if (this.commit.pendingRecords + n > this.opts.maxPendingRecords || this.refusal() !== null) {
      this.counters.refusedSubmits++;
      return false;
    }
    const t0 = performance.now();
    let bytes = 0;
    for (const r of good) bytes += r.length;
    for (const r of bad) bytes += r.length;
    if (!this.active.fits(bytes + n * 9) && !this.roll()) {
      this.counters.refusedSubmits++;
      return false;
    }
    const now = Date.now();
    const seg = this.active;
    if (seg.records === 0) this.activeFirstMono = t0;
    this.appendedBytes += bytes;
    for (const r of good) seg.append(FrameKind.Good, r, now);
    for (const r of bad) seg.append(FrameKind.Bad, r, now);
    this.opts.observer?.appended(good.length, bad.length, bytes, (performance.now() - t0) * 1000);
    if (this.opts.durability === 'none') {
      waiter.onCommitted(null);
      return true;
    }
    this.commit.touch(seg);
    this.commit.wait(waiter, n);
    return true;
  }

  /** Seals the open segment and opens the spare. False when there is no spare or nothing to seal. */
  private roll(): boolean {
    const old = this.active;
    if (old.records === 0 || !this.prealloc.available) return false;
    this.seal(old);
    this.active = this.openSegment(this.prealloc.take());
    // The next spare is written only once the roll's sync is done. That sync makes the sealed
    // segment's truncation durable, which commits the file system journal, and (ext4 data=ordered)
    // a journal commit first writes out the data of newly allocated blocks: a spare being written
    // meanwhile held the sync (and the acks behind it) for up to 40 ms.
    this.rollSyncing = true;
    void this.commit.flush().finally(() => {
      this.rollSyncing = false;
      this.ensureSpare();
    });
    return true;
  }

  /**
   * Lets the preallocator write a new spare if one is wanted (see Preallocator.ensure), unless a
   * roll's sync is running. A segment sealed here (its mapping kept) comes back as a spare once shipped.
   */
  private ensureSpare(): void {
    if (this.rollSyncing || this.closing) return;
    this.prealloc.ensure(this.sealedMaps.size > 0);
  }

  /** How far the open segment is to its roll, 0..1 and beyond: the larger of its fill and its age. */
  private openProgress(now: number): number {
    const seg = this.active;
    const age = seg.records > 0 ? (now - this.activeFirstMono) / this.opts.maxSegmentAgeMs : 0;
    return Math.max(seg.size / this.opts.segmentBytes, age);
  }

  /** Seals a segment: once its footer is synced it joins the sealed list and the listeners hear of it. */
  private seal(seg: SegmentWriter): void {
    const footer = seg.seal();
    const info: SealedSegment = { seq: seg.seq, path: seg.path, header: seg.header, footer, bytes: seg.size };
    this.counters.segmentsSealed++;
    this.commit.touch({
      fd: seg.fd,
      synced: () => {
        const map = seg.detachMapping();
        if (map !== null) this.sealedMaps.set(seg.seq, map);
        seg.close();
        this.sealed.push(info);
        for (const l of this.sealedListeners) l(info);
      },
    });
  }

  private check(): void {
    if (this.closing) return;
    const now = performance.now();
    if (this.active.records > 0 && now - this.activeFirstMono >= this.opts.maxSegmentAgeMs) this.roll();
    this.paceSpares(now);
    this.ensureSpare();
    statfs(this.opts.dir, (err, s) => {
      if (err === null) this.freeBytes = Number(s.bavail) * Number(s.bsize);
    });
  }

  /** Sets the pace of spare writing from the append rate since the last check and the roll ahead. */
  private paceSpares(now: number): void {
    const seconds = (now - this.checkedAt) / 1000;
    if (seconds <= 0) return;
    const rate = (this.appendedBytes - this.checkedBytes) / seconds;
    this.checkedAt = now;
    this.checkedBytes = this.appendedBytes;
    this.prealloc.setPace(spareFillPace({
      appendBytesPerSecond: rate,
      spareReady: this.prealloc.available,
      openSegmentProgress: this.openProgress(now),
    }));
  }

  /** Seals the open segment (an empty one is removed), syncs everything and closes. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    await this.prealloc.close();
    await this.commit.flush();
    const last = this.active;
    if (last.records > 0) {
      // Sealed like a roll, so the shipper hears of it and the shutdown drain can ship it.
      this.seal(last);
      await this.commit.flush();
    } else {
      last.close();
      rmSync(last.path, { force: true });
    }
    this.commit.touchDir();
    await this.commit.flush();
    closeSync(this.dirFd);
  }
}
