/**
 * Group commit: waiters registered while no sync runs start one on the next turn of the event
 * loop; waiters registered while a sync runs gather and are covered by the next one. A sync
 * fdatasyncs every file written since the last sync (and the directory when segments were
 * created or renamed), then answers its whole group.
 *
 * Commit delay (as MySQL's binlog_group_commit_sync_delay and _no_delay_count): a group smaller
 * than `group` waiters waits until its first waiter has waited `delayMs` before its sync starts,
 * so that at moderate load several requests share one sync instead of one each. Every sync costs
 * a hand-off to the thread pool, the fdatasync's device round trips and a wake-up of the event
 * loop, whatever it covers. A group of `group` waiters or more, a flush and `delayMs` 0 start at once.
 *
 * Where a sync runs: on the thread pool (fdatasync's callback), or, for a group of at most
 * `LoopSync.group` waiters while the previous sync took less than `LoopSync.belowMs`, on the
 * event loop itself (fdatasyncSync). A small group's sync on the pool costs more CPU than the
 * sync: the hand-off to a pool thread, its wake-up when the device answers and the loop's
 * wake-up by the pool, each a context switch; on the loop it is one sleep and one wake-up. The
 * loop reads no request meanwhile (they wait in their sockets, and the next group takes them);
 * large groups, which come at high load, and every group after a slow sync go to the pool, where
 * the loop keeps reading and appending while the device works.
 */
import { strict as assert } from 'node:assert';
import { fdatasync, fdatasyncSync, fsync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CommitWaiter } from './record-sink';

export interface SyncTarget {
  fd: number;
  /** Called when a sync takes this target, before its fdatasync: what is written now it covers. */
  syncing?: () => void;
  /** Called after a sync covering this target completed. */
  synced?: () => void;
}

export interface GroupCommitStats {
  syncs: number;
  lastSyncMs: number;
  lastGroupSize: number;
}

/**
 * Hears of every completed sync: its duration (µs), the requests and the records it answered,
 * and whether its fdatasyncs ran on the event loop.
 */
export type SyncListener = (us: number, waiters: number, records: number, onLoop: boolean) => void;

/** How long a small group waits for company before its sync starts (see the header). */
export interface CommitPacing {
  /** Milliseconds the first waiter of a group waits at most before the sync starts; 0: at once. */
  delayMs: number;
  /** A group of this many waiters starts its sync at once. */
  group: number;
}

export const NO_COMMIT_DELAY: CommitPacing = { delayMs: 0, group: 1 };

/** Which syncs run on the event loop instead of the thread pool (see the header). */
export interface LoopSync {
  /** A group of at most this many waiters is synced on the loop; 0: never. */
  group: number;
  /** Only while the previous sync took less than this many milliseconds. */
  belowMs: number;
}

export const NO_LOOP_SYNC: LoopSync = { group: 0, belowMs: 0 };

export interface GroupCommitOptions {
  /** Fault injection (tests): milliseconds to wait before each sync. */
  syncDelayMs?: () => number;
  onSynced?: SyncListener;
  pacing?: CommitPacing;
  loopSync?: LoopSync;
}

export class GroupCommit {
  private waiters: CommitWaiter[] = [];
  private waitingRecords = 0;
  private syncingRecords = 0;
  private targets = new Set<SyncTarget>();
  private dirDirty = false;
  private inFlight = false;
  private scheduled = false;
  /** performance.now() when the first waiter of the gathering group registered. */
  private groupFrom = 0;
  /** Fires when the gathering group has waited the commit delay. */
  private delayTimer: NodeJS.Timeout | null = null;
  private syncStartedAt = 0;
  private drainWaiters: Array<() => void> = [];
  readonly stats: GroupCommitStats = { syncs: 0, lastSyncMs: 0, lastGroupSize: 0 };
  private readonly syncDelayMs: () => number;
  private readonly onSynced: SyncListener;
  private readonly pacing: CommitPacing;
  private readonly loopSync: LoopSync;

  /** `onError` hears of a failed sync once per failure, before the group is answered. */
  constructor(private readonly dirFd: number, private readonly onError: (err: Error) => void, opts: GroupCommitOptions = {}) {
    this.syncDelayMs = opts.syncDelayMs ?? (() => 0);
    this.onSynced = opts.onSynced ?? (() => undefined);
    this.pacing = opts.pacing ?? NO_COMMIT_DELAY;
    this.loopSync = opts.loopSync ?? NO_LOOP_SYNC;
    assert(Number.isInteger(this.pacing.group) && this.pacing.group >= 1, 'commit group must be a positive integer');
    assert(this.pacing.delayMs >= 0, 'commit delay must not be negative');
    assert(Number.isInteger(this.loopSync.group) && this.loopSync.group >= 0, 'loop sync group must be a non-negative integer');
    assert(this.loopSync.belowMs >= 0, 'loop sync latency bound must not be negative');
  }

  /** Marks a file as written (to be synced by the next group). */
  touch(target: SyncTarget): void {
    this.targets.add(target);
  }

  /** Marks the directory as changed (segment created, renamed or removed). */
  touchDir(): void {
    this.dirDirty = true;
  }

  /** Registers a waiter for `records` just appended. */
  wait(waiter: CommitWaiter, records: number): void {
    if (this.waiters.length === 0 && this.pacing.delayMs > 0) this.groupFrom = performance.now();
    this.waiters.push(waiter);
    this.waitingRecords += records;
    this.schedule();
  }

  /** Records appended and not yet covered by a completed sync. */
  get pendingRecords(): number {
    return this.waitingRecords + this.syncingRecords;
  }

  /** Milliseconds the running sync has taken so far (0 when idle). */
  runningMs(): number {
    return this.inFlight ? performance.now() - this.syncStartedAt : 0;
  }

  get pendingWaiters(): number {
    return this.waiters.length;
  }

  /** Syncs whatever was touched, even with no waiter (sealing); resolves when all is synced. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.schedule(true);
    });
  }

  /** Starts a sync on the next turn of the loop, unless one runs or the group should wait. */
  private schedule(force = false): void {
    if (this.inFlight || this.scheduled) return;
    if (!force) {
      if (this.waiters.length === 0) return;
      if (this.pacing.delayMs > 0 && this.waiters.length < this.pacing.group) {
        const left = this.groupFrom + this.pacing.delayMs - performance.now();
        if (left > 0) {
          this.delayTimer ??= setTimeout(() => {
            this.delayTimer = null;
            this.schedule(true);
          }, left);
          return;
        }
      }
    }
    if (this.delayTimer !== null) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    if (this.inFlight) return;
    const drains = this.drainWaiters;
    if (this.waiters.length === 0 && this.targets.size === 0 && !this.dirDirty) {
      this.drainWaiters = [];
      for (const d of drains) d();
      return;
    }
    this.inFlight = true;
    this.syncStartedAt = performance.now();
    const waiters = this.waiters;
    this.syncingRecords = this.waitingRecords;
    this.waitingRecords = 0;
    const targets = [...this.targets];
    for (const t of targets) t.syncing?.();
    const syncDir = this.dirDirty;
    this.waiters = [];
    this.targets = new Set();
    this.dirDirty = false;
    this.drainWaiters = [];
    // Decided before the sync: the previous sync's duration is the only view of the device.
    const onLoop = this.loopSync.group > 0 && waiters.length <= this.loopSync.group && this.stats.lastSyncMs < this.loopSync.belowMs;
    let i = 0;
    const finish = (err: Error | null): void => {
      this.inFlight = false;
      const ms = performance.now() - this.syncStartedAt;
      this.stats.syncs++;
      this.stats.lastSyncMs = ms;
      this.stats.lastGroupSize = waiters.length;
      this.onSynced(ms * 1000, waiters.length, this.syncingRecords, onLoop);
      this.syncingRecords = 0;
      if (err === null) for (const t of targets) t.synced?.();
      else this.onError(err);
      for (const w of waiters) w.onCommitted(err);
      for (const d of drains) d();
      // Waiters that gathered during this sync wait out the rest of their delay; a flush does not.
      this.schedule(this.drainWaiters.length > 0);
    };
    const step = (): void => {
      if (onLoop && i < targets.length) {
        try {
          while (i < targets.length) fdatasyncSync(targets[i++]!.fd);
        } catch (e) {
          finish(e as Error);
          return;
        }
      }
      if (i < targets.length) {
        fdatasync(targets[i++]!.fd, (e) => (e !== null ? finish(e) : step()));
        return;
      }
      if (syncDir) fsync(this.dirFd, (e) => finish(e));
      else finish(null);
    };
    const delay = this.syncDelayMs();
    if (delay > 0) setTimeout(step, delay); else step();
  }
}
