/**
 * An HTTP thread (wal.shards > 1): one CollectorShard — uWS front end and its own WAL shard — on
 * a worker thread, listening on the collector's port beside the other HTTP threads. It tells the
 * main thread of every sealed segment and of its state, releases segments once shipped, answers
 * metric snapshots, and takes the main thread's view of the rest of the health.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { SluiceConfig } from '../config/types';
import { loopCheck, unhealthyReason, type HealthCheck } from '../ops/lifecycle';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import { LoopDelayMonitor } from '../ops/process-metrics';
import { segmentRef } from '../ship/segment-source';
import type { SegmentRef } from '../ship/shipper';
import type { HealthSource } from './collector-service';
import { CollectorShard, WalOpenError } from './collector-shard';

export interface HttpThreadData {
  config: SluiceConfig;
  shard: number;
  walDir: string;
  rollAgeMs: number;
}

export type ToHttpThread =
  | { type: 'listen'; host: string; port: number }
  | { type: 'health'; reasons: string[] }
  | { type: 'release'; seq: number; archiveDir: string | null }
  | { type: 'snapshot'; id: number }
  | { type: 'stopListening' }
  | { type: 'close' };

export interface ShardState {
  refusal: string | null;
  sinkHealthy: boolean;
  loopDelayMs: number;
  /** Age (ms) of the oldest record in the open segment, 0 when it has none. */
  openAgeMs: number;
}

export type FromHttpThread =
  | { type: 'opened'; instanceId: string }
  | { type: 'listening'; port: number }
  | { type: 'startFailed'; error: string; operator: boolean }
  | { type: 'sealed'; seg: SegmentRef }
  | { type: 'state'; state: ShardState }
  | { type: 'snapshot'; id: number; snap: ShardSnapshot }
  | { type: 'closed' };

const STATE_MS = 250;

/** This thread's checks (its WAL shard, its event loop) and what the main thread says of the rest. */
class ThreadHealth implements HealthSource {
  /** Failing checks elsewhere (phase, S3, lag, other shards), from the main thread. */
  others: string[] = ['starting'];
  shard: CollectorShard | null = null;

  constructor(private readonly loop: LoopDelayMonitor, private readonly maxLoopMs: number) {}

  private local(): HealthCheck[] {
    const refusal = this.shard === null ? 'starting' : this.shard.wal.refusal();
    return [{ name: 'wal', ok: refusal === null, detail: refusal ?? 'accepting records' }, loopCheck(this.loop.lastSecondMaxDelayMs, this.maxLoopMs)];
  }

  unhealthyReason(): string | null {
    const own = unhealthyReason(this.local());
    if (this.others.length === 0) return own;
    return `unhealthy: ${[...this.others, ...(own === null ? [] : [own.slice('unhealthy: '.length)])].join('; ')}`;
  }

  sinkHealthy(): boolean {
    return this.shard?.wal.healthy() ?? false;
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const d = workerData as HttpThreadData;
  const send = (m: FromHttpThread): void => port.postMessage(m);
  const loop = new LoopDelayMonitor();
  const health = new ThreadHealth(loop, d.config.admin.maxEventLoopDelay);
  const uws = await import('uWebSockets.js');
  let shard: CollectorShard;
  try {
    shard = new CollectorShard({ config: d.config, walDir: d.walDir, rollAgeMs: d.rollAgeMs, health, uws });
  } catch (e) {
    send({ type: 'startFailed', error: (e as Error).message, operator: e instanceof WalOpenError });
    return;
  }
  health.shard = shard;
  const wal = shard.wal;
  send({ type: 'opened', instanceId: wal.instanceId });
  for (const s of wal.sealedSegments()) send({ type: 'sealed', seg: segmentRef(wal.instanceId, s) });
  wal.onSealed((s) => send({ type: 'sealed', seg: segmentRef(wal.instanceId, s) }));
  const state = (): ShardState => {
    const first = wal.openSegmentFirstMono();
    return { refusal: wal.refusal(), sinkHealthy: wal.healthy(), loopDelayMs: loop.lastSecondMaxDelayMs, openAgeMs: first === null ? 0 : performance.now() - first };
  };
  const timer = setInterval(() => send({ type: 'state', state: state() }), STATE_MS);
  send({ type: 'state', state: state() });
  port.on('message', (m: ToHttpThread) => {
    switch (m.type) {
      case 'listen':
        shard.listen(m.host, m.port).then(
          (p) => send({ type: 'listening', port: p }),
          (e: unknown) => send({ type: 'startFailed', error: (e as Error).message, operator: true }),
        );
        break;
      case 'health': health.others = m.reasons; break;
      case 'release': wal.release(m.seq, m.archiveDir); break;
      case 'snapshot': send({ type: 'snapshot', id: m.id, snap: shard.snapshot(loop) }); break;
      case 'stopListening': shard.stopListening(); break;
      case 'close':
        void shard.close().then(() => {
          clearInterval(timer);
          loop.close();
          send({ type: 'state', state: state() });
          send({ type: 'closed' });
        });
        break;
    }
  });
}

void main().catch((e: unknown) => parentPort!.postMessage({ type: 'startFailed', error: (e as Error).message, operator: false } satisfies FromHttpThread));
