/**
 * The main thread's side of the shipper: starts the worker, hands it every sealed segment (those
 * recovered at start, then each one as it seals), and releases a segment from the WAL once the
 * worker confirms its objects. Knows the shipping lag: the age of the oldest unshipped event.
 */
import { testHooks } from '../config/test-hooks';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { SegmentSource } from './segment-source';
import type { FromShipper, ShipperWorkerData, ToShipper } from './shipper-worker';
import { type ShipperStats } from './shipper';
import { segmentId, type SegmentRef } from './ship-plan';

export interface ShipperLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

/** One segment confirmed in S3. */
export interface ShippedSegment {
  instanceId: string;
  seq: number;
  records: number;
  bytes: number;
  /** From the start of its upload to confirmation, ms. */
  ms: number;
}

export class ShipperThread {
  private readonly worker: Worker;
  /** Segments handed to the worker: segmentId → performance.now() of the first event. */
  private readonly pending = new Map<string, number>();
  private readyResolve: (() => void) | null = null;
  readonly ready: Promise<void>;
  isReady = false;
  endpoint: string | null = null;
  stats: ShipperStats | null = null;
  private drainResolve: ((idle: boolean) => void) | null = null;
  private stoppedResolve: (() => void) | null = null;

  private stopping = false;
  private readonly shippedListeners: Array<(s: ShippedSegment) => void> = [];

  /** `onFatal` is called when the shipper cannot run at all (the process should stop). */
  constructor(private readonly source: SegmentSource, data: ShipperWorkerData, private readonly log: ShipperLog, private readonly archiveDir: string | null, private readonly onFatal: (why: string) => void) {
    this.ready = new Promise((resolve) => { this.readyResolve = resolve; });
    this.worker = new Worker(join(__dirname, 'shipper-worker.js'), { workerData: data });
    this.worker.on('message', (m: FromShipper) => this.onMessage(m));
    this.worker.on('error', (e) => this.onFatal(`shipper thread failed: ${e.message}`));
    this.worker.on('exit', (code) => { if (!this.stopping) this.onFatal(`shipper thread exited (${code})`); });
    source.onSealed((s) => this.send(s));
  }

  /** Deletes archived segments older than `retentionMs`, now and periodically. */
  sweepArchive(retentionMs: number): void {
    const dir = this.archiveDir;
    if (dir === null) return;
    const sweep = (): void => {
      if (!existsSync(dir)) return;
      const cutoff = Date.now() - retentionMs;
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        try {
          if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
        } catch {
          // removed meanwhile
        }
      }
    };
    sweep();
    setInterval(sweep, Math.min(3_600_000, Math.max(1000, retentionMs / 10))).unref();
  }

  onShipped(listener: (s: ShippedSegment) => void): void {
    this.shippedListeners.push(listener);
  }

  private send(seg: SegmentRef): void {
    // Its first event's age on the monotonic clock (a later wall-clock step does not change it).
    this.pending.set(segmentId(seg), performance.now() - Math.max(0, Date.now() - seg.firstMs));
    const msg: ToShipper = { type: 'segment', seg };
    this.worker.postMessage(msg);
  }

  private onMessage(m: FromShipper): void {
    switch (m.type) {
      case 'ready':
        this.isReady = true;
        this.endpoint = m.endpoint;
        this.log.info({ endpoint: m.endpoint }, 'shipper ready');
        this.readyResolve?.();
        break;
      case 'startFailed':
        this.onFatal(`shipper could not start: ${m.error}`);
        break;
      case 'shipped':
        // Fault injection for tests: die between the confirmed upload and the WAL release.
        if (testHooks.killAfterShip) process.kill(process.pid, 'SIGKILL');
        this.pending.delete(segmentId(m));
        this.source.release(m.instanceId, m.seq, this.archiveDir);
        this.log.info({ instance: m.instanceId, seq: m.seq, keys: m.keys, records: m.records, bytes: m.bytes, ms: m.ms }, 'segment shipped');
        for (const l of this.shippedListeners) l({ instanceId: m.instanceId, seq: m.seq, records: m.records, bytes: m.bytes, ms: m.ms });
        break;
      case 'stats':
        this.stats = m.stats;
        break;
      case 'drained':
        this.drainResolve?.(m.idle);
        break;
      case 'log':
        this.log[m.level](m.obj, m.msg);
        break;
      case 'stopped':
        this.stoppedResolve?.();
        break;
    }
  }

  /** Age in ms of the oldest event not yet in S3 (0 when everything is shipped), monotonic. */
  lagMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const first of this.pending.values()) oldest = Math.min(oldest, first);
    const now = performance.now();
    const open = this.source.openAgeMs();
    if (open > 0) oldest = Math.min(oldest, now - open);
    return Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0;
  }

  get unshippedSegments(): number {
    return this.pending.size;
  }

  /** Ships what is pending for at most `ms`; true when everything went out. */
  drain(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      // The worker answers within `ms`; the timer only guards against a worker that cannot.
      const guard = setTimeout(() => resolve(false), ms + 5000);
      this.drainResolve = (idle) => { clearTimeout(guard); resolve(idle); };
      const msg: ToShipper = { type: 'drain', ms };
      this.worker.postMessage(msg);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await new Promise<void>((resolve) => {
      this.stoppedResolve = resolve;
      const msg: ToShipper = { type: 'stop' };
      this.worker.postMessage(msg);
      setTimeout(resolve, 5000).unref();
    });
    await this.worker.terminate();
  }
}
