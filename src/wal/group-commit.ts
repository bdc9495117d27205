/**
 * Group commit: waiters registered while no sync runs start one on the next turn of the event
 * loop; waiters registered while a sync runs gather and are covered by the next one. A sync
 * fdatasyncs every file written since the last sync (and the directory when segments were
 * created or renamed), then answers its whole group. No timers on this path.
 */
import { fdatasync, fsync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CommitWaiter } from './record-sink';

export interface SyncTarget {
  fd: number;
  /** Called after a sync covering this target completed. */
  synced?: () => void;
}

export interface GroupCommitStats {
  syncs: number;
  lastSyncMs: number;
  lastGroupSize: number;
}

/** Hears of every completed sync: its duration (µs), the requests and the records it answered. */
export type SyncListener = (us: number, waiters: number, records: number) => void;

export class GroupCommit {
  private waiters: CommitWaiter[] = [];
  private waitingRecords = 0;
  private syncingRecords = 0;
  private targets = new Set<SyncTarget>();
  private dirDirty = false;
  private inFlight = false;
  private scheduled = false;
  private syncStartedAt = 0;
  private drainWaiters: Array<() => void> = [];
  readonly stats: GroupCommitStats = { syncs: 0, lastSyncMs: 0, lastGroupSize: 0 };

  /** `onError` hears of a failed sync once per failure, before the group is answered. */
  constructor(
    private readonly dirFd: number,
    private readonly onError: (err: Error) => void,
    private readonly syncDelayMs: () => number = () => 0,
    private readonly onSynced: SyncListener = () => undefined,
  ) {}

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

  private schedule(force = false): void {
    if (this.inFlight || this.scheduled) return;
    if (!force && this.waiters.length === 0) return;
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
    const syncDir = this.dirDirty;
    this.waiters = [];
    this.targets = new Set();
    this.dirDirty = false;
    this.drainWaiters = [];
    let i = 0;
    const finish = (err: Error | null): void => {
      this.inFlight = false;
      const ms = performance.now() - this.syncStartedAt;
      this.stats.syncs++;
      this.stats.lastSyncMs = ms;
      this.stats.lastGroupSize = waiters.length;
      this.onSynced(ms * 1000, waiters.length, this.syncingRecords);
      this.syncingRecords = 0;
      if (err === null) for (const t of targets) t.synced?.();
      else this.onError(err);
      for (const w of waiters) w.onCommitted(err);
      for (const d of drains) d();
      if (this.waiters.length > 0 || this.drainWaiters.length > 0) this.schedule(true);
    };
    const step = (): void => {
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
