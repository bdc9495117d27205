/**
 * The pessimistic health: the process phase (starting, serving, pre-termination, draining), S3
 * answering, the WAL accepting records (disk, caps, sync latency), shipping lag and event-loop
 * delay. Healthy only when every check passes; each failing check says why.
 */
import { strict as assert } from 'node:assert';
import type { HealthSource } from '../http/collector-service';
import type { ShipperThread } from '../ship/shipper-thread';
import type { StreamThread } from '../ship/stream-thread';

export type Phase = 'starting' | 'serving' | 'pre-termination' | 'draining';

export interface HealthCheck {
  name: 'phase' | 's3' | 'wal' | 'shipping-lag' | 'stream' | 'event-loop';
  ok: boolean;
  detail: string;
}

export interface HealthBounds {
  maxLagMs: number;
  maxEventLoopDelayMs: number;
}

/** What the health reads from the WAL shard(s) and the threads. */
export interface HealthInputs {
  /** Null while every WAL shard accepts records, else why not. */
  walRefusal(): string | null;
  sinkHealthy(): boolean;
  /** Largest event-loop delay of the last second over the threads, ms. */
  loopDelayMs(): number;
}

const PHASE_DETAIL: Readonly<Record<Phase, string>> = {
  starting: 'starting',
  serving: 'serving',
  'pre-termination': 'shutting down (pre-termination period)',
  draining: 'shutting down',
};

/**
 * The process's health, created first: the shards and the shipper it reads are attached once they
 * exist (the shards answer /health with it meanwhile: unhealthy, starting).
 */
export class Lifecycle implements HealthSource {
  phase: Phase = 'starting';
  private inputs: HealthInputs | null = null;
  private shipper: ShipperThread | null = null;
  private stream: StreamThread | null = null;

  constructor(private bounds: HealthBounds) {}

  /** New thresholds (a reload). */
  setBounds(bounds: HealthBounds): void {
    this.bounds = bounds;
  }

  /** What the checks read: the shards, the shipper and the stream sink (null when off). Once. */
  attach(inputs: HealthInputs, shipper: ShipperThread | null, stream: StreamThread | null = null): void {
    assert(this.inputs === null, 'the health inputs are attached once');
    this.inputs = inputs;
    this.shipper = shipper;
    this.stream = stream;
  }

  checks(): HealthCheck[] {
    const out: HealthCheck[] = [];
    out.push({ name: 'phase', ok: this.phase === 'serving', detail: PHASE_DETAIL[this.phase] });
    if (this.inputs === null) {
      out.push({ name: 'wal', ok: false, detail: 'starting' });
      return out;
    }
    if (this.shipper !== null) {
      out.push({ name: 's3', ok: this.shipper.isReady, detail: this.shipper.isReady ? 'S3 answered' : 'starting (S3 not answering yet)' });
    }
    const refusal = this.inputs.walRefusal();
    out.push({ name: 'wal', ok: refusal === null, detail: refusal ?? 'accepting records' });
    if (this.shipper !== null) {
      const lag = this.shipper.lagMs();
      const ok = lag <= this.bounds.maxLagMs;
      out.push({ name: 'shipping-lag', ok, detail: `shipping lag ${(lag / 1000).toFixed(1)} s${ok ? ' within' : ' exceeds'} ${this.bounds.maxLagMs / 1000} s` });
    }
    if (this.stream !== null) {
      const problem = this.stream.problem();
      const lag = this.stream.lagMs();
      out.push({ name: 'stream', ok: problem === null, detail: problem ?? `stream lag ${(lag / 1000).toFixed(1)} s, puts succeeding` });
    }
    out.push(loopCheck(this.inputs.loopDelayMs(), this.bounds.maxEventLoopDelayMs));
    return out;
  }

  unhealthyReason(): string | null {
    return unhealthyReason(this.checks());
  }

  sinkHealthy(): boolean {
    return this.inputs?.sinkHealthy() ?? false;
  }
}

export function loopCheck(delayMs: number, maxMs: number): HealthCheck {
  const ok = delayMs <= maxMs;
  return { name: 'event-loop', ok, detail: `event-loop delay ${Math.round(delayMs)} ms${ok ? ' within' : ' exceeds'} ${maxMs} ms` };
}

/** The public /health answer's reason: every failing check, or null. */
export function unhealthyReason(checks: readonly HealthCheck[]): string | null {
  const failing = checks.filter((c) => !c.ok);
  return failing.length === 0 ? null : `unhealthy: ${failing.map((c) => c.detail).join('; ')}`;
}
