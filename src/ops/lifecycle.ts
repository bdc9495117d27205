/** Process state for /health: starting, serving, draining. */
import type { HealthSource } from '../http/collector-service';
import type { RecordSink } from '../wal/record-sink';

export type Phase = 'starting' | 'serving' | 'pre-termination' | 'draining';

export class Lifecycle implements HealthSource {
  phase: Phase = 'starting';

  constructor(private readonly sink: RecordSink) {}

  unhealthyReason(): string | null {
    switch (this.phase) {
      case 'serving': {
        const refusal = this.sink.refusal();
        return refusal === null ? null : `unhealthy: ${refusal}`;
      }
      case 'starting': return 'unhealthy: starting';
      case 'pre-termination': return 'unhealthy: shutting down (pre-termination period)';
      case 'draining': return 'unhealthy: shutting down';
    }
  }

  sinkHealthy(): boolean {
    return this.sink.healthy();
  }
}
