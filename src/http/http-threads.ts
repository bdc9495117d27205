/**
 * The main thread's side of wal.shards > 1: starts one HTTP thread per shard (http-thread.ts),
 * each with its WAL in `<wal.dir>/shard-<n>`, all listening on one port. Gathers their sealed
 * segments for the one shipper, routes releases back, keeps their latest state for the health,
 * and tells each thread what fails elsewhere so every thread's /health answers for the whole.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SluiceConfig } from '../config/types';
import type { HealthCheck } from '../ops/lifecycle';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import type { SegmentSource } from '../ship/segment-source';
import { shardDir } from '../wal/wal-files';
import { segmentId, type SegmentRef } from '../ship/shipper';
import type { FromHttpThread, HttpThreadData, ShardState, ToHttpThread } from './http-thread';
import type { ShardSet } from './shard-set';

const HEALTH_PUSH_MS = 250;
const SNAPSHOT_TIMEOUT_MS = 2000;

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A start-up failure the operator can fix (port taken, WAL directory unusable). */
export class ThreadStartError extends Error {}

interface Thread {
  worker: Worker;
  instanceId: string;
  state: ShardState;
  closed: boolean;
  /** A listen request is out: its failure is listen()'s to report. */
  listening: boolean;
}

export class HttpThreads implements ShardSet {
  private readonly threads: Thread[] = [];
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
        const t = this.threads.find((x) => x.instanceId === instanceId);
        if (t === undefined || path === undefined) return;
        if (!t.closed) {
          this.post(t, { type: 'release', seq, archiveDir });
          return;
        }
        // After the shard closed (segments shipped during the drain): the file is all that is left.
        if (archiveDir === null) rmSync(path, { force: true });
        else {
          mkdirSync(archiveDir, { recursive: true });
          renameSync(path, join(archiveDir, basename(path)));
        }
      },
      openAgeMs: () => Math.max(0, ...this.threads.map((t) => t.state.openAgeMs)),
    };
  }

  /** Starts the threads; resolves once every shard's WAL is recovered and open. */
  static async open(config: SluiceConfig, count: number, rollAgeMs: number, onFatal: (why: string) => void): Promise<HttpThreads> {
    const set = new HttpThreads(count, onFatal);
    await Promise.all(Array.from({ length: count }, (_, shard) => set.startThread(config, shard, rollAgeMs)));
    return set;
  }

  get instanceIds(): readonly string[] {
    return this.threads.map((t) => t.instanceId);
  }

  private startThread(config: SluiceConfig, shard: number, rollAgeMs: number): Promise<void> {
    const data: HttpThreadData = { config, shard, walDir: shardDir(config.wal.dir, shard), rollAgeMs };
    const worker = new Worker(join(__dirname, 'http-thread.js'), { workerData: data });
    const thread: Thread = { worker, instanceId: '', state: { refusal: 'starting', sinkHealthy: false, loopDelayMs: 0, openAgeMs: 0 }, closed: false, listening: false };
    this.threads[shard] = thread;
    return new Promise((resolve, reject) => {
      let opened = false;
      worker.on('message', (m: FromHttpThread) => {
        switch (m.type) {
          case 'opened': thread.instanceId = m.instanceId; opened = true; resolve(); break;
          case 'startFailed':
            if (!opened) reject(m.operator ? new ThreadStartError(m.error) : new Error(m.error));
            else if (!thread.listening) this.onFatal(`HTTP thread ${shard}: ${m.error}`);
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
      worker.on('error', (e) => (opened ? this.onFatal(`HTTP thread ${shard} failed: ${e.message}`) : reject(e)));
      worker.on('exit', (code) => {
        if (!thread.closed && !this.stopping) this.onFatal(`HTTP thread ${shard} exited (${code})`);
      });
    });
  }

  private post(t: Thread, m: ToHttpThread): void {
    t.worker.postMessage(m);
  }

  private waitFor(t: Thread, type: FromHttpThread['type']): Promise<FromHttpThread> {
    return new Promise((resolve) => {
      const on = (m: FromHttpThread): void => {
        if (m.type === type || m.type === 'startFailed') {
          t.worker.off('message', on);
          resolve(m);
        }
      };
      t.worker.on('message', on);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    // Every thread binds the same port (SO_REUSEPORT): port 0 is resolved here first, because
    // uWS binds an ephemeral port without SO_REUSEPORT.
    const bound = port === 0 ? await freePort(host) : port;
    await Promise.all(this.threads.map((t) => this.listenOne(t, host, bound)));
    return bound;
  }

  private async listenOne(t: Thread, host: string, port: number): Promise<number> {
    const reply = this.waitFor(t, 'listening');
    t.listening = true;
    this.post(t, { type: 'listen', host, port });
    const m = await reply;
    t.listening = false;
    if (m.type !== 'listening') throw new ThreadStartError(m.type === 'startFailed' ? m.error : 'cannot listen');
    return m.port;
  }

  /** Tells every thread, every 250 ms, what fails outside it. */
  startHealthPush(global: () => HealthCheck[], maxLoopMs: number): void {
    const push = (): void => {
      const failing = global().filter((c) => !c.ok && c.name !== 'wal' && c.name !== 'event-loop').map((c) => c.detail);
      this.threads.forEach((t, i) => {
        const others: string[] = [...failing];
        this.threads.forEach((o, j) => {
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
        reject(new Error('an HTTP thread did not answer for its metrics within 2 s'));
      }, SNAPSHOT_TIMEOUT_MS);
      this.snapshotWaits.set(id, {
        left: this.threads.length, snaps: [],
        resolve: (s) => { clearTimeout(timer); resolve(s); },
        reject,
      });
      for (const t of this.threads) this.post(t, { type: 'snapshot', id });
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
    const r = this.threads.map((t, i) => (t.state.refusal === null ? null : `shard ${i}: ${t.state.refusal}`)).filter((x): x is string => x !== null);
    return r.length === 0 ? null : r.join('; ');
  }

  sinkHealthy(): boolean {
    return this.threads.every((t) => t.state.sinkHealthy);
  }

  loopDelayMs(): number {
    return Math.max(0, ...this.threads.map((t) => t.state.loopDelayMs));
  }

  stopListening(): void {
    for (const t of this.threads) this.post(t, { type: 'stopListening' });
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.pushTimer !== null) clearInterval(this.pushTimer);
    await Promise.all(this.threads.map(async (t) => {
      const done = this.waitFor(t, 'closed');
      this.post(t, { type: 'close' });
      await done;
      t.closed = true;
    }));
  }

  /** Ends the threads (after close() and the shipper's drain). */
  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
