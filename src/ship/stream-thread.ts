/**
 * The main thread's side of the stream sink: starts the stream thread with the WAL's sealed
 * segments and open segment, publishes the open segment's durable end after every sync (a shared
 * buffer, no message), sends each sealed segment, and lets go of a segment once the thread is past
 * it (the WAL releases it when the shipper is too). Knows the sink's health and figures.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WriteAheadLog } from '../wal/write-ahead-log';
import { DurableMarkWriter } from './durable-mark';
import type { StreamPlan } from './stream-settings';
import type { FromStream, StreamStats, StreamWorkerData, ToStream } from './stream-protocol';

export interface StreamLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

export class StreamThread {
  private readonly worker: Worker;
  private readonly mark = new DurableMarkWriter();
  stats: StreamStats | null = null;
  private drainWaiters: Array<(idle: boolean) => void> = [];
  private stoppedResolve: (() => void) | null = null;
  private stopping = false;

  /** `archiveDir`: where released segments go (ship.archiveDir), null to delete or recycle them. */
  constructor(private readonly wal: WriteAheadLog, plan: StreamPlan, private readonly archiveDir: string | null, private readonly maxLagMs: number, private readonly log: StreamLog, onFatal: (why: string) => void) {
    const open = wal.openSegmentOnDisk();
    const data: StreamWorkerData = {
      ...plan,
      instanceId: wal.instanceId,
      mark: this.mark.buffer,
      sealed: wal.sealedSegments().map((s) => ({ seq: s.seq, bytes: s.bytes, firstMs: s.footer.firstMs })),
      open: { seq: open.seq, durableBytes: open.durableBytes },
    };
    this.mark.publish(open.seq, open.durableBytes);
    wal.onDurable((seq, bytes) => this.mark.publish(seq, bytes));
    wal.onSealed((s) => this.post({ type: 'sealed', seq: s.seq, bytes: s.bytes }));
    // Worker threads do not inherit a TypeScript loader: from the sources (tests), run the build.
    const file = extname(__filename) === '.js' ? join(__dirname, 'stream-worker.js') : join(__dirname, '..', '..', 'dist', 'ship', 'stream-worker.js');
    this.worker = new Worker(file, { workerData: data });
    this.worker.on('message', (m: FromStream) => this.onMessage(m, onFatal));
    this.worker.on('error', (e) => onFatal(`stream thread failed: ${e.message}`));
    this.worker.on('exit', (code) => { if (!this.stopping) onFatal(`stream thread exited (${code})`); });
  }

  private post(m: ToStream): void {
    this.worker.postMessage(m);
  }

  private onMessage(m: FromStream, onFatal: (why: string) => void): void {
    switch (m.type) {
      case 'stats':
        this.stats = m.stats;
        return;
      case 'released':
        this.wal.release(m.seq, this.archiveDir, 'stream');
        return;
      case 'drained': {
        this.stats = m.stats;
        const w = this.drainWaiters;
        this.drainWaiters = [];
        for (const f of w) f(true);
        return;
      }
      case 'stopped':
        this.stats = m.stats;
        this.stoppedResolve?.();
        return;
      case 'log':
        this.log[m.level](m.obj, m.msg);
        return;
      case 'fatal':
        onFatal(`stream sink: ${m.message}`);
    }
  }

  /** Null while the sink keeps up, else why not (for /health and /sink-health). */
  problem(): string | null {
    const s = this.stats;
    if (s === null) return 'stream sink starting';
    if (!s.ready) return `stream not reachable yet: ${s.streamProblem ?? 'checking'}`;
    if (s.failing) return `stream puts failing (${s.failingAttempts} attempts in a row): ${s.lastError ?? 'unknown error'}`;
    if (s.lagMs > this.maxLagMs) return `stream lag ${(s.lagMs / 1000).toFixed(1)} s exceeds ${this.maxLagMs / 1000} s`;
    return null;
  }

  lagMs(): number {
    return this.stats?.lagMs ?? 0;
  }

  /** Resolves true once every record on disk is in the stream, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((f) => f !== done);
        resolve(false);
      }, timeoutMs);
      const done = (idle: boolean): void => { clearTimeout(timer); resolve(idle); };
      this.drainWaiters.push(done);
      this.post({ type: 'drain' });
    });
  }

  stop(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { void this.worker.terminate().then(() => resolve()); }, 3000);
      this.stoppedResolve = () => { clearTimeout(timer); resolve(); };
      this.post({ type: 'stop' });
    });
  }
}
