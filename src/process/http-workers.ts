/**
 * The main process's side of wal.shards > 1: starts one HTTP worker process per shard
 * (http-worker.ts, through node:cluster, which shares the public port: the main process accepts
 * and hands each connection to a worker in turn), each with its WAL in `<wal.dir>/shard-<n>`.
 * Gathers their sealed segments for the one shipper, routes releases back, keeps their latest
 * state for the health, and tells each worker what fails elsewhere so every worker's /health
 * answers for the whole.
 */
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { retireSegmentFile } from '../wal/segment-release';
import { ERROR_CODES, SluiceError } from '../config/errors';
import type { CollectorConfig, SluiceConfig } from '../config/types';
import type { HealthCheck } from '../ops/lifecycle';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import type { SegmentSource } from '../ship/segment-source';
import { shardDir } from '../wal/wal-files';
import { segmentId, type SegmentRef } from '../ship/ship-plan';
import type { FromHttpWorker, HttpWorkerData, ShardState, ToHttpWorker } from './http-worker';
import type { ShardSet } from './shard-set';

const HEALTH_PUSH_MS = 250;
const SNAPSHOT_TIMEOUT_MS = 2000;

/** A start-up failure the operator can fix (port taken, WAL directory unusable). */
export class WorkerStartError extends SluiceError {
  constructor(message: string) {
    super(ERROR_CODES.workerStart, message);
  }
}

interface WorkerEntry {
  worker: Worker;
  instanceId: string;
  state: ShardState;
  closed: boolean;
  /** A listen request is out: its failure is listen()'s to report. */
  listening: boolean;
}

export class HttpWorkers implements ShardSet {
  private readonly workers: WorkerEntry[] = [];
  private readonly sealedBuffer: SegmentRef[] = [];
  /** Paths of sealed segments not yet released, by segmentId. */
  private readonly paths = new Map<string, string>();
  private sealedListener: ((seg: SegmentRef) => void) | null = null;
  private readonly snapshotWaits = new Map<number, { left: number; snaps: Array<ShardSnapshot | undefined>; resolve: (s: ShardSnapshot[]) => void; reject: (e: Error) => void }>();
  private nextSnapshotId = 1;
  private pushTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  readonly segments: SegmentSource;

  private constructor(readonly count: number, private readonly onFatal: (why: string) => void) {
    this.segments = {
      onSealed: (listener) => {
        this.sealedListener = listener;
        for (const s of this.sealedBuffer.splice(0)) listener(s);
      },
      release: (instanceId, seq, archiveDir) => {
        const id = segmentId({ instanceId, seq });
        const path = this.paths.get(id);
        this.paths.delete(id);
        const t = this.workers.find((x) => x.instanceId === instanceId);
        if (t === undefined || path === undefined) return;
        if (!t.closed) {
          this.post(t, { type: 'release', seq, archiveDir });
          return;
        }
        // After the shard closed (segments shipped during the drain): the file is all that is left.
        retireSegmentFile(path, archiveDir);
      },
      openAgeMs: () => Math.max(0, ...this.workers.map((t) => t.state.openAgeMs)),
    };
  }

  /** Starts the workers; resolves once every shard's WAL is recovered and open. */
  static async open(config: SluiceConfig, count: number, rollAgeMs: number, onFatal: (why: string) => void): Promise<HttpWorkers> {
    const set = new HttpWorkers(count, onFatal);
    cluster.setupPrimary({ exec: join(__dirname, 'http-worker.js'), serialization: 'advanced' });
    await Promise.all(Array.from({ length: count }, (_, shard) => set.startThread(config, shard, rollAgeMs)));
    return set;
  }

  get instanceIds(): readonly string[] {
    return this.workers.map((t) => t.instanceId);
  }

  private startThread(config: SluiceConfig, shard: number, rollAgeMs: number): Promise<void> {
    const data: HttpWorkerData = { config, shard, walDir: shardDir(config.wal.dir, shard), rollAgeMs };
    const worker = cluster.fork();
    const thread: WorkerEntry = { worker, instanceId: '', state: { refusal: 'starting', sinkHealthy: false, loopDelayMs: 0, openAgeMs: 0 }, closed: false, listening: false };
    this.workers[shard] = thread;
    return new Promise((resolve, reject) => {
      let opened = false;
      worker.on('message', (m: FromHttpWorker) => {
        switch (m.type) {
          // The worker says when it listens for messages: sent earlier, a message can be lost.
          case 'ready': this.post(thread, { type: 'init', data }); break;
          case 'opened': thread.instanceId = m.instanceId; opened = true; resolve(); break;
          case 'startFailed':
            if (!opened) reject(m.operator ? new WorkerStartError(m.error) : new Error(m.error));
            else if (!thread.listening) this.onFatal(`HTTP worker ${shard}: ${m.error}`);
            break;
          case 'sealed':
            this.paths.set(segmentId(m.seg), m.seg.path);
            if (this.sealedListener === null) this.sealedBuffer.push(m.seg); else this.sealedListener(m.seg);
            break;
          case 'state': thread.state = m.state; break;
          case 'snapshot': this.onSnapshot(m.id, shard, m.snap); break;
          case 'listening': case 'closed': break; // awaited by listen() and close()
        }
      });
      worker.on('error', (e: Error) => (opened ? this.onFatal(`HTTP worker ${shard} failed: ${e.message}`) : reject(e)));
      worker.on('exit', (code: number | null, signal: string | null) => {
        const why = `HTTP worker ${shard} exited (${signal ?? code})`;
        if (!opened) reject(new Error(why));
        else if (!thread.closed && !this.stopping) this.onFatal(why);
      });
    });
  }

  private post(t: Pick<WorkerEntry, 'worker'>, m: ToHttpWorker): void {
    if (t.worker.isConnected()) t.worker.send(m);
  }

  private waitFor(t: WorkerEntry, type: FromHttpWorker['type']): Promise<FromHttpWorker> {
    return new Promise((resolve) => {
      const on = (m: FromHttpWorker): void => {
        if (m.type === type || m.type === 'startFailed') {
          t.worker.off('message', on);
          resolve(m);
        }
      };
      t.worker.on('message', on);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    // node:cluster shares one listening socket by address: port 0 gives every worker the same port.
    const ports = await Promise.all(this.workers.map((t) => this.listenOne(t, host, port)));
    return ports[0]!;
  }

  private async listenOne(t: WorkerEntry, host: string, port: number): Promise<number> {
    const reply = this.waitFor(t, 'listening');
    t.listening = true;
    this.post(t, { type: 'listen', host, port });
    const m = await reply;
    t.listening = false;
    if (m.type !== 'listening') throw new WorkerStartError(m.type === 'startFailed' ? m.error : 'cannot listen');
    return m.port;
  }

  /** Tells every worker, every 250 ms, what fails outside it. */
  startHealthPush(global: () => HealthCheck[], maxLoopMs: number): void {
    const push = (): void => {
      const failing = global().filter((c) => !c.ok && c.name !== 'wal' && c.name !== 'event-loop').map((c) => c.detail);
      this.workers.forEach((t, i) => {
        const others: string[] = [...failing];
        this.workers.forEach((o, j) => {
          if (j === i) return;
          if (o.state.refusal !== null) others.push(`shard ${j}: ${o.state.refusal}`);
          if (o.state.loopDelayMs > maxLoopMs) others.push(`shard ${j}: event-loop delay ${Math.round(o.state.loopDelayMs)} ms exceeds ${maxLoopMs} ms`);
        });
        this.post(t, { type: 'health', reasons: others });
      });
    };
    push();
    this.pushTimer = setInterval(push, HEALTH_PUSH_MS);
    this.pushTimer.unref();
  }

  snapshots(): Promise<ShardSnapshot[]> {
    const id = this.nextSnapshotId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.snapshotWaits.delete(id);
        reject(new Error('an HTTP worker did not answer for its metrics within 2 s'));
      }, SNAPSHOT_TIMEOUT_MS);
      this.snapshotWaits.set(id, {
        left: this.workers.length, snaps: [],
        resolve: (s) => { clearTimeout(timer); resolve(s); },
        reject,
      });
      for (const t of this.workers) this.post(t, { type: 'snapshot', id });
    });
  }

  private onSnapshot(id: number, shard: number, snap: ShardSnapshot): void {
    const w = this.snapshotWaits.get(id);
    if (w === undefined) return;
    w.snaps[shard] = snap;
    if (--w.left === 0) {
      this.snapshotWaits.delete(id);
      w.resolve(w.snaps as ShardSnapshot[]);
    }
  }

  walRefusal(): string | null {
    const r = this.workers.map((t, i) => (t.state.refusal === null ? null : `shard ${i}: ${t.state.refusal}`)).filter((x): x is string => x !== null);
    return r.length === 0 ? null : r.join('; ');
  }

  sinkHealthy(): boolean {
    return this.workers.every((t) => t.state.sinkHealthy);
  }

  loopDelayMs(): number {
    return Math.max(0, ...this.workers.map((t) => t.state.loopDelayMs));
  }

  reload(collector: CollectorConfig): void {
    for (const t of this.workers) this.post(t, { type: 'reload', collector });
  }

  stopListening(): void {
    for (const t of this.workers) this.post(t, { type: 'stopListening' });
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.pushTimer !== null) clearInterval(this.pushTimer);
    await Promise.all(this.workers.map(async (t) => {
      const done = this.waitFor(t, 'closed');
      this.post(t, { type: 'close' });
      await done;
      t.closed = true;
    }));
  }

  /** Ends the workers (after close() and the shipper's drain). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((t) => new Promise<void>((resolve) => {
      if (t.worker.isDead()) { resolve(); return; }
      t.worker.once('exit', () => resolve());
      t.worker.process.kill('SIGKILL');
    })));
  }
}
