/**
 * Every figure of a running collector in one place: the Prometheus exposition for /metrics and
 * the snapshot the status page draws.
 */
import type { ShipperThread } from '../ship/shipper-thread';
import type { WriteAheadLog } from '../wal/write-ahead-log';
import type { Lifecycle } from './lifecycle';
import type { ProcessMetrics } from './process-metrics';
import { PrometheusText } from './prometheus-text';
import type { RequestMetrics } from './request-metrics';
import { VERSION } from './version';
import type { WalMetrics } from './wal-metrics';
import { WindowedHistogram } from './windowed-histogram';

export interface StatusSnapshot {
  at: number;
  version: string;
  instanceId: string;
  healthy: boolean;
  health: ReturnType<Lifecycle['checks']>;
  acknowledged: number;
  goodRecords: number;
  badRecords: number;
  /** Over the last 10 to 20 seconds. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  walBacklogBytes: number;
  sealedSegments: number;
  freeDiskBytes: number | null;
  shippingLagMs: number | null;
  segmentsShipped: number;
  shipRetries: number;
  shipLastError: string | null;
  rssBytes: number;
  eventLoopDelayMs: number;
}

export interface MetricSources {
  requests: RequestMetrics;
  walMetrics: WalMetrics;
  wal: WriteAheadLog;
  shipper: ShipperThread | null;
  process: ProcessMetrics;
  lifecycle: Lifecycle;
}

export class CollectorMetrics {
  /** Segment ship time (build and upload to confirmation), µs. */
  private readonly shipLatency = new WindowedHistogram();
  private shippedRecords = 0;

  constructor(private readonly s: MetricSources) {
    s.shipper?.onShipped((seg) => {
      this.shipLatency.record(seg.ms * 1000);
      this.shippedRecords += seg.records;
    });
  }

  prometheus(): string {
    const { requests, walMetrics, wal, shipper, process: proc, lifecycle } = this.s;
    const out = new PrometheusText();
    out.family('sluice_build_info', 'gauge', 'Version and WAL instance id of this collector.').sample('sluice_build_info', 1, { version: VERSION, instance: wal.instanceId });
    const checks = lifecycle.checks();
    out.family('sluice_healthy', 'gauge', 'Health checks: 1 when passing. check="all" is what /health answers.');
    out.sample('sluice_healthy', checks.every((c) => c.ok) ? 1 : 0, { check: 'all' });
    for (const c of checks) out.sample('sluice_healthy', c.ok ? 1 : 0, { check: c.name });
    requests.render(out);
    walMetrics.render(out);
    out.single('sluice_wal_pending_records', 'gauge', 'Records appended and waiting for their sync.', wal.pendingRecords);
    out.family('sluice_wal_segments', 'gauge', 'WAL segments not yet shipped: the open one and sealed ones.')
      .sample('sluice_wal_segments', 1, { state: 'open' })
      .sample('sluice_wal_segments', wal.sealedSegments().length, { state: 'sealed' });
    out.single('sluice_wal_segments_sealed_total', 'counter', 'Segments sealed by this process.', wal.counters.segmentsSealed);
    out.single('sluice_wal_segments_released_total', 'counter', 'Segments shipped and removed from the WAL (or archived) by this process.', wal.counters.segmentsReleased);
    out.single('sluice_wal_unshipped_bytes', 'gauge', 'Bytes in the WAL not yet shipped (open and sealed segments).', wal.unshippedBytes());
    out.single('sluice_wal_refused_total', 'counter', 'Submits the WAL refused (a bound was reached; the request got 503).', wal.counters.refusedSubmits);
    const free = wal.freeDiskBytes;
    if (Number.isFinite(free)) out.single('sluice_wal_free_disk_bytes', 'gauge', 'Free bytes on the WAL volume (checked every 250 ms).', free);
    if (shipper !== null) {
      const st = shipper.stats;
      out.single('sluice_ship_lag_seconds', 'gauge', 'Age of the oldest event not yet in S3 (0 when all is shipped).', shipper.lagMs() / 1000);
      out.single('sluice_ship_segments_pending', 'gauge', 'Sealed segments handed to the shipper and not yet confirmed.', shipper.unshippedSegments);
      out.single('sluice_ship_segments_total', 'counter', 'Segments confirmed in S3.', st?.shipped ?? 0);
      out.single('sluice_ship_records_total', 'counter', 'Records in segments confirmed in S3.', this.shippedRecords);
      out.single('sluice_ship_bytes_total', 'counter', 'Bytes of objects uploaded and confirmed.', st?.bytes ?? 0);
      out.single('sluice_ship_retries_total', 'counter', 'Object uploads retried.', st?.retries ?? 0);
      out.single('sluice_ship_failed_rounds_total', 'counter', 'Segments whose every attempt in a round failed (they wait and start over).', st?.failedRounds ?? 0);
      out.summary('sluice_ship_segment_latency_seconds', 'Time to ship one segment: build its files and upload them to confirmation.', this.shipLatency.snapshot(), 1e6);
    }
    proc.render(out);
    return out.toString();
  }

  status(now = Date.now()): StatusSnapshot {
    const { requests, walMetrics, wal, shipper, process: proc, lifecycle } = this.s;
    // The newest two 10-s slots: the page's p99 follows the load within 20 s.
    const lat = requests.ackLatency.snapshot(2);
    const health = lifecycle.checks();
    return {
      at: now,
      version: VERSION,
      instanceId: wal.instanceId,
      healthy: health.every((c) => c.ok),
      health,
      acknowledged: requests.acknowledged,
      goodRecords: walMetrics.goodRecords,
      badRecords: walMetrics.badRecords,
      /** Over the last 10 to 20 seconds. */
  latencyMs: { p50: lat.p50 / 1000, p90: lat.p90 / 1000, p99: lat.p99 / 1000, p999: lat.p999 / 1000, max: lat.max / 1000 },
      walBacklogBytes: wal.unshippedBytes(),
      sealedSegments: wal.sealedSegments().length,
      freeDiskBytes: Number.isFinite(wal.freeDiskBytes) ? wal.freeDiskBytes : null,
      shippingLagMs: shipper === null ? null : shipper.lagMs(),
      segmentsShipped: shipper?.stats?.shipped ?? 0,
      shipRetries: shipper?.stats?.retries ?? 0,
      shipLastError: shipper?.stats?.lastError ?? null,
      rssBytes: proc.rss(),
      eventLoopDelayMs: proc.lastSecondMaxDelayMs,
    };
  }
}
