/**
 * The pessimistic health: the process phase (starting, serving, pre-termination, draining), S3
 * answering, the WAL accepting records (disk, caps, sync latency), shipping lag and event-loop
 * delay. Healthy only when every check passes; each failing check says why.
 */
import type { HealthSource } from '../http/collector-service';
import type { ShipperThread } from '../ship/shipper-thread';
import type { RecordSink } from '../wal/record-sink';

export type Phase = 'starting' | 'serving' | 'pre-termination' | 'draining';

export interface HealthCheck {
  name: 'phase' | 's3' | 'wal' | 'shipping-lag' | 'event-loop';
  ok: boolean;
  detail: string;
}

export interface HealthBounds {
  maxLagMs: number;
  maxEventLoopDelayMs: number;
}

export class Lifecycle implements HealthSource {
  phase: Phase = 'starting';

  constructor(
    private readonly sink: RecordSink,
    private readonly shipper: ShipperThread | null,
    private readonly bounds: HealthBounds,
    /** Largest event-loop delay of the last second, ms. */
    private readonly loopDelayMs: () => number,
  ) {}

  checks(): HealthCheck[] {
    const out: HealthCheck[] = [];
    const phaseDetail = {
      starting: 'starting',
      serving: 'serving',
      'pre-termination': 'shutting down (pre-termination period)',
      draining: 'shutting down',
    }[this.phase];
    out.push({ name: 'phase', ok: this.phase === 'serving', detail: phaseDetail });
    if (this.shipper !== null) {
      out.push({ name: 's3', ok: this.shipper.isReady, detail: this.shipper.isReady ? 'S3 answered' : 'starting (S3 not answering yet)' });
    }
    const refusal = this.sink.refusal();
    out.push({ name: 'wal', ok: refusal === null, detail: refusal ?? 'accepting records' });
    if (this.shipper !== null) {
      const lag = this.shipper.lagMs();
      const ok = lag <= this.bounds.maxLagMs;
      out.push({ name: 'shipping-lag', ok, detail: `shipping lag ${(lag / 1000).toFixed(1)} s${ok ? ' within' : ' exceeds'} ${this.bounds.maxLagMs / 1000} s` });
    }
    const delay = this.loopDelayMs();
    const loopOk = delay <= this.bounds.maxEventLoopDelayMs;
    out.push({ name: 'event-loop', ok: loopOk, detail: `event-loop delay ${Math.round(delay)} ms${loopOk ? ' within' : ' exceeds'} ${this.bounds.maxEventLoopDelayMs} ms` });
    return out;
  }

  unhealthyReason(): string | null {
    const failing = this.checks().filter((c) => !c.ok);
    return failing.length === 0 ? null : `unhealthy: ${failing.map((c) => c.detail).join('; ')}`;
  }

  sinkHealthy(): boolean {
    return this.sink.healthy();
  }
}
