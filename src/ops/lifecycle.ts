/** Process state for /health: starting, serving, draining; the WAL's refusals; shipping lag. */
import type { HealthSource } from '../http/collector-service';
import type { ShipperThread } from '../ship/shipper-thread';
import type { RecordSink } from '../wal/record-sink';

export type Phase = 'starting' | 'serving' | 'pre-termination' | 'draining';

export class Lifecycle implements HealthSource {
  phase: Phase = 'starting';

  constructor(private readonly sink: RecordSink, private readonly shipper: ShipperThread | null, private readonly maxLagMs: number) {}

  unhealthyReason(): string | null {
    switch (this.phase) {
      case 'starting': return 'unhealthy: starting';
      case 'pre-termination': return 'unhealthy: shutting down (pre-termination period)';
      case 'draining': return 'unhealthy: shutting down';
      case 'serving': break;
    }
    if (this.shipper !== null && !this.shipper.isReady) return 'unhealthy: starting (S3 not answering yet)';
    const refusal = this.sink.refusal();
    if (refusal !== null) return `unhealthy: ${refusal}`;
    if (this.shipper !== null) {
      const lag = this.shipper.lagMs(Date.now());
      if (lag > this.maxLagMs) return `unhealthy: shipping lag ${Math.round(lag / 1000)} s exceeds ${Math.round(this.maxLagMs / 1000)} s`;
    }
    return null;
  }

  sinkHealthy(): boolean {
    return this.sink.healthy();
  }
}
