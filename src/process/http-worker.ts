/**
 * An HTTP worker (wal.shards > 1): one CollectorShard — the HTTP front end and its own WAL shard —
 * in a process of its own (node:cluster), serving the collector's port beside the other workers.
 * It tells the main process of every sealed segment and of its state, releases segments once
 * shipped, answers metric snapshots, and takes the main process's view of the rest of the health.
 * It holds its shard directory's lock, and exits when the main process goes (whatever it
 * acknowledged is on disk), so an orphan never writes beside the next collector.
 */
import { performance } from 'node:perf_hooks';
import { WalLock } from '../wal/wal-lock';
import type { CollectorConfig, SluiceConfig } from '../config/types';
import { loopCheck, unhealthyReason, type HealthCheck } from '../ops/lifecycle';
import type { ShardSnapshot } from '../ops/metrics-snapshot';
import { LoopDelayMonitor } from '../ops/process-metrics';
import { segmentRef } from '../ship/segment-source';
import type { SegmentRef } from '../ship/ship-plan';
import type { HealthSource } from '../http/collector-service';
import { CollectorShard, sinkHolders, WalOpenError } from './collector-shard';

export interface HttpWorkerData {
  config: SluiceConfig;
  shard: number;
  walDir: string;
  rollAgeMs: number;
}

export type ToHttpWorker =
  | { type: 'init'; data: HttpWorkerData }
  | { type: 'listen'; host: string; port: number }
  | { type: 'health'; reasons: string[] }
  | { type: 'release'; seq: number; archiveDir: string | null }
  | { type: 'snapshot'; id: number }
  | { type: 'reload'; collector: CollectorConfig }
  | { type: 'stopListening' }
  | { type: 'close' };

export interface ShardState {
  refusal: string | null;
  sinkHealthy: boolean;
  loopDelayMs: number;
  /** Age (ms) of the oldest record in the open segment, 0 when it has none. */
  openAgeMs: number;
}

export type FromHttpWorker =
  | { type: 'ready' }
  | { type: 'opened'; instanceId: string }
  | { type: 'listening'; port: number }
  | { type: 'startFailed'; error: string; operator: boolean }
  | { type: 'sealed'; seg: SegmentRef }
  | { type: 'state'; state: ShardState }
  | { type: 'snapshot'; id: number; snap: ShardSnapshot }
  | { type: 'closed' };

const STATE_MS = 250;

/** This worker's checks (its WAL shard, its event loop) and what the main process says of the rest. */
class WorkerHealth implements HealthSource {
  /** Failing checks elsewhere (phase, S3, lag, other shards), from the main process. */
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

function send(m: FromHttpWorker): void {
  if (process.connected) process.send!(m);
}

async function main(d: HttpWorkerData): Promise<void> {
  const loop = new LoopDelayMonitor();
  const health = new WorkerHealth(loop, d.config.admin.maxEventLoopDelayMs);
  let shard: CollectorShard;
  try {
    WalLock.acquire(d.walDir, `collector shard ${d.shard}`);
    shard = new CollectorShard({ config: d.config, walDir: d.walDir, rollAgeMs: d.rollAgeMs, health, holders: sinkHolders(d.config) });
  } catch (e) {
    send({ type: 'startFailed', error: (e as Error).message, operator: e instanceof WalOpenError || (e as { code?: unknown }).code === 'SLUICE_E_WAL_LOCKED' });
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
  process.on('message', (m: ToHttpWorker) => {
    switch (m.type) {
      case 'init': break; // handled once, below
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
      case 'reload': shard.reload(m.collector); break;
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

// The main process runs the shutdown: a signal sent to the whole group (systemd) is its alone.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
// The main process is gone (killed): what this worker acknowledged is durable; stop writing.
process.on('disconnect', () => process.exit(1));
let initialized = false;
process.on('message', (m: ToHttpWorker) => {
  if (m.type !== 'init' || initialized) return;
  initialized = true;
  void main(m.data).catch((e: unknown) => send({ type: 'startFailed', error: (e as Error).message, operator: false }));
});
send({ type: 'ready' });
