/**
 * Interim sink until the segmented WAL lands: two append-only files (good.log, bad.log) of
 * frames `u32 BE length | bytes`, written with one writev each and made durable with one
 * fdatasync per group (group commit). While a group syncs, the next one gathers.
 */
import { closeSync, fdatasync, mkdirSync, openSync, writev } from 'node:fs';
import { join } from 'node:path';
import type { Durability } from '../config/types';
import type { CommitWaiter, RecordSink } from './record-sink';

interface Lane {
  fd: number;
  chunks: Buffer[];
}

export interface FileSinkOptions {
  dir: string;
  durability: Durability;
  /** Records queued and not yet durable, at most. */
  maxPendingRecords: number;
  /** Fault injection for tests: extra delay before each sync. */
  syncDelayMs?: number;
}

function frameHeader(len: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(len, 0);
  return h;
}

function writeAll(fd: number, chunks: Buffer[], cb: (err: Error | null) => void): void {
  if (chunks.length === 0) { cb(null); return; }
  // writev takes at most IOV_MAX (1024) buffers per call on Linux.
  const batch = chunks.length > 1024 ? chunks.slice(0, 1024) : chunks;
  const rest = chunks.length > 1024 ? chunks.slice(1024) : [];
  const want = batch.reduce((n, b) => n + b.length, 0);
  writev(fd, batch, (err, written) => {
    if (err !== null) { cb(err); return; }
    if (written !== want) {
      // Short write: continue with what is left.
      let skip = written;
      const left: Buffer[] = [];
      for (const b of batch) {
        if (skip >= b.length) { skip -= b.length; continue; }
        left.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
      writeAll(fd, [...left, ...rest], cb);
      return;
    }
    writeAll(fd, rest, cb);
  });
}

export class FileSink implements RecordSink {
  readonly name = 'filesink';
  private readonly good: Lane;
  private readonly bad: Lane;
  private waiters: CommitWaiter[] = [];
  private pendingRecords = 0;
  private flushing = false;
  private scheduled = false;
  private failed: Error | null = null;
  private closing: (() => void) | null = null;
  private closed = false;

  constructor(private readonly opts: FileSinkOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.good = { fd: openSync(join(opts.dir, 'good.log'), 'a'), chunks: [] };
    this.bad = { fd: openSync(join(opts.dir, 'bad.log'), 'a'), chunks: [] };
  }

  submit(good: readonly Buffer[], bad: readonly Buffer[], waiter: CommitWaiter): boolean {
    const n = good.length + bad.length;
    if (this.closing !== null || this.pendingRecords + n > this.opts.maxPendingRecords) return false;
    for (const r of good) this.good.chunks.push(frameHeader(r.length), r);
    for (const r of bad) this.bad.chunks.push(frameHeader(r.length), r);
    this.pendingRecords += n;
    this.waiters.push(waiter);
    this.schedule();
    return true;
  }

  healthy(): boolean {
    return this.failed === null && this.closing === null;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing || this.waiters.length === 0) {
      if (!this.flushing && this.closing !== null && this.waiters.length === 0) this.closing();
      return;
    }
    this.flushing = true;
    const waiters = this.waiters;
    const records = this.pendingRecords;
    const goodChunks = this.good.chunks;
    const badChunks = this.bad.chunks;
    this.waiters = [];
    this.good.chunks = [];
    this.bad.chunks = [];
    const done = (err: Error | null): void => {
      this.pendingRecords -= records;
      this.flushing = false;
      if (err !== null) this.failed = err;
      for (const w of waiters) w.onCommitted(err);
      this.flush();
    };
    writeAll(this.good.fd, goodChunks, (e1) => {
      if (e1 !== null) { done(e1); return; }
      writeAll(this.bad.fd, badChunks, (e2) => {
        if (e2 !== null) { done(e2); return; }
        if (this.opts.durability === 'none') { done(null); return; }
        const sync = (): void => {
          fdatasync(this.good.fd, (e3) => {
            if (e3 !== null) { done(e3); return; }
            if (badChunks.length === 0) { done(null); return; }
            fdatasync(this.bad.fd, (e4) => done(e4));
          });
        };
        const delay = this.opts.syncDelayMs ?? 0;
        if (delay > 0) setTimeout(sync, delay); else sync();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.closing = () => {
        if (this.closed) return;
        this.closed = true;
        closeSync(this.good.fd);
        closeSync(this.bad.fd);
        resolve();
      };
      if (!this.flushing && !this.scheduled) this.flush();
    });
  }
}
