/**
 * The write-ahead log: recovery at open, one open memory-mapped segment taking appends, rolls on
 * size and age onto a preallocated spare, group commit for durability, and backpressure: while
 * the WAL cannot promise durability (free disk under the floor, unshipped bytes over the cap,
 * syncs slower than the bound, no room to roll, a failed sync) it refuses records, so the front
 * end answers 503 and /health says why. It accepts again by itself once the condition clears.
 */
import { strict as assert } from 'node:assert';
import { closeSync, openSync, rmSync, statfs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { GroupCommit } from './group-commit';
import { refusalReason } from './admission';
import { Preallocator, type Spare } from './preallocator';
import { RollPolicy } from './roll-policy';
import { ReleaseGate, retireSegmentFile, type SegmentHolder } from './segment-release';
import { AppendRate, spareFillPace } from './spare-pacing';
import type { CommitWaiter, RecordSink } from './record-sink';
import { recoverWal, type RecoveryReport, type SealedSegment } from './recovery';
import { FrameKind, type SegmentHeader } from './segment-format';
import { SegmentWriter } from './segment-writer';
import { SequenceReservation } from './wal-state';
import type { WalCounters, WalOptions } from './wal-options';

export type { WalCounters, WalObserver, WalOptions } from './wal-options';

const CHECK_MS = 250;

export class WriteAheadLog implements RecordSink {
  readonly name = 'wal';
  readonly instanceId: string;
  readonly recovery: RecoveryReport;
  private readonly sequence: SequenceReservation;
  private active: SegmentWriter;
  private readonly sealed: SealedSegment[];
  private readonly commit: GroupCommit;
  private readonly rolls: RollPolicy;
  private readonly prealloc: Preallocator;
  private readonly dirFd: number;
  private readonly timer: NodeJS.Timeout;
  private freeBytes = Number.POSITIVE_INFINITY;
  private activeFirstMono = 0;
  private readonly appendRate = new AppendRate(performance.now());
  private failure: Error | null = null;
  private closing = false;
  /** A roll's sync is running; the next spare waits for it (see roll). */
  private rollSyncing = false;
  /** Sequence number of the last segment opened (segments open in order). */
  private lastOpenedSeq = -1;
  private readonly sealedListeners: Array<(s: SealedSegment) => void> = [];
  private readonly durableListeners: Array<(seq: number, bytes: number) => void> = [];
  private readonly gate: ReleaseGate;
  /** Mappings of sealed segments sealed by this process, kept for recycling, by sequence number. */
  private readonly sealedMaps = new Map<number, Buffer>();
  readonly counters: WalCounters = { segmentsSealed: 0, segmentsReleased: 0, segmentsRecycled: 0, refusedSubmits: 0 };

  private constructor(private readonly opts: WalOptions, report: RecoveryReport) {
    this.recovery = report;
    this.instanceId = report.instanceId;
    this.sequence = new SequenceReservation(opts.dir, report.instanceId, report.nextSeq);
    this.sealed = [...report.sealed];
    this.gate = new ReleaseGate(opts.holders ?? ['s3']);
    this.dirFd = openSync(opts.dir, 'r');
    this.rolls = new RollPolicy(opts.segmentBytes, opts.maxSegmentAgeMs);
    this.commit = new GroupCommit(this.dirFd, (err) => {
      if (this.failure !== null) return;
      this.failure = err;
      opts.log.warn({ err: err.message }, 'WAL sync failed: refusing records until restart');
    }, { syncDelayMs: opts.syncDelayMs, onSynced: opts.observer?.synced, pacing: opts.commitPacing, loopSync: opts.loopSync });
    this.prealloc = new Preallocator(opts.dir, opts.segmentBytes, opts.spareSegments, opts.recycleSegments, () => this.claimSegment());
    // The first segment and the spares are written at start, before anything is served: the first
    // rolls never wait for the spare thread or write a new file while events are acknowledged.
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
    return { instanceId: this.instanceId, seq: this.sequence.claim(), createdMs: Date.now(), capacity: this.opts.segmentBytes };
  }

  /** Starts writing into a ready spare: already named and synced, so nothing is renamed here. */
  private openSegment(spare: Spare): SegmentWriter {
    assert(spare.header.seq > this.lastOpenedSeq, `segments open in sequence order (${spare.header.seq} after ${this.lastOpenedSeq})`);
    this.lastOpenedSeq = spare.header.seq;
    const seg = new SegmentWriter(spare.path, { ...spare.header, createdMs: Date.now() }, spare.map);
    seg.onDurable = (bytes) => {
      for (const l of this.durableListeners) l(seg.seq, bytes);
    };
    return seg;
  }

  /** Hears, after each sync, the bytes of open segment `seq` on disk (whole frames), which a sink may read. */
  onDurable(listener: (seq: number, bytes: number) => void): void {
    this.durableListeners.push(listener);
  }

  /** The open segment: its sequence number and the bytes of it on disk. */
  openSegmentOnDisk(): { seq: number; durableBytes: number } {
    return { seq: this.active.seq, durableBytes: this.active.durableBytes };
  }

  onSealed(listener: (s: SealedSegment) => void): void {
    this.sealedListeners.push(listener);
  }

  /** Sealed, synced segments not yet released (oldest first). */
  sealedSegments(): readonly SealedSegment[] {
    return this.sealed;
  }

  /**
   * `holder` (a sink) is done with a sealed segment. Once every holder is (ReleaseGate), the WAL
   * forgets it: moves its file to `archiveDir`; when null, recycles it as a spare (while fewer
   * than `recycleSegments` are kept and its mapping is still held) or deletes it.
   */
  release(seq: number, archiveDir: string | null = null, holder: SegmentHolder = 's3'): void {
    const i = this.sealed.findIndex((s) => s.seq === seq);
    if (i < 0 || !this.gate.letGo(seq, holder, archiveDir)) return;
    archiveDir = this.gate.takeArchiveDir(seq);
    const [s] = this.sealed.splice(i, 1);
    const map = this.sealedMaps.get(seq) ?? null;
    this.sealedMaps.delete(seq);
    this.counters.segmentsReleased++;
    if (archiveDir === null && map !== null && !this.closing && this.prealloc.recycle(s!.path, map, seq)) this.counters.segmentsRecycled++;
    else retireSegmentFile(s!.path, archiveDir);
    this.commit.touchDir();
  }

  /** performance.now() of the open segment's first append (null: none): a wall-clock step must not hold a roll. */
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

  /** Null while records are accepted, else why not (admission.ts). */
  refusal(): string | null {
    return refusalReason({
      syncFailure: this.failure,
      closing: this.closing,
      spareFailure: this.prealloc.available ? null : this.prealloc.error,
      freeDiskBytes: this.freeBytes,
      unshippedBytes: this.unshippedBytes(),
      runningSyncMs: this.commit.runningMs(),
      lastSyncMs: this.commit.stats.lastSyncMs,
    }, this.opts);
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
    if (this.rolls.dueBySize(this.active, bytes, n) && !this.roll()) {
      this.counters.refusedSubmits++;
      return false;
    }
    const now = Date.now();
    const seg = this.active;
    if (seg.records === 0) this.activeFirstMono = t0;
    this.appendRate.add(bytes);
    for (const r of good) seg.append(FrameKind.Good, r, now);
    for (const r of bad) seg.append(FrameKind.Bad, r, now);
    this.opts.observer?.appended(good.length, bad.length, bytes, (performance.now() - t0) * 1000);
    if (this.opts.durability === 'none') {
      seg.markAllDurable();
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
    // The next spare waits for the roll's sync (its journal commit would write a spare's new blocks first).
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
    if (this.rolls.dueByAge(this.active, this.activeFirstMono, now)) this.roll();
    this.paceSpares(now);
    this.ensureSpare();
    statfs(this.opts.dir, (err, s) => {
      if (err === null) this.freeBytes = Number(s.bavail) * Number(s.bsize);
    });
  }

  /** Sets the pace of spare writing from the append rate since the last check and the roll ahead. */
  private paceSpares(now: number): void {
    const rate = this.appendRate.sample(now);
    if (rate === null) return;
    this.prealloc.setPace(spareFillPace({
      appendBytesPerSecond: rate,
      spareReady: this.prealloc.available,
      openSegmentProgress: this.rolls.progress(this.active, this.activeFirstMono, now),
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
