/**
 * Every figure of a running collector in one place: the Prometheus exposition for /metrics and
 * the snapshot the status page draws. The shards' figures (one per HTTP worker and its WAL shard)
 * are merged; the shipper, health and process figures are the main thread's.
 */
import type { ShipperThread } from '../ship/shipper-thread';
import type { StreamThread } from '../ship/stream-thread';
import { renderStreamMetrics } from './stream-metrics';
import type { HealthCheck, Lifecycle } from './lifecycle';
import { mergeShards, type ShardSnapshot } from './metrics-snapshot';
import type { ProcessMetrics } from './process-metrics';
import { PrometheusText } from './prometheus-text';
import { ENDPOINTS } from './endpoints';
import { COMMIT, VERSION } from './version';
import { WindowedHistogram } from './windowed-histogram';
import type { SampledStatus } from './status-history';

export interface StatusSnapshot {
  at: number;
  version: string;
  instanceId: string;
  shards: number;
  healthy: boolean;
  health: HealthCheck[];
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
  /** The stream sink's lag and records put (null when it is off). */
  streamLagMs: number | null;
  streamRecordsPut: number | null;
  streamLastError: string | null;
  rssBytes: number;
  eventLoopDelayMs: number;
  /** Answers since start by status class (the status page's non-2xx chart). */
  answers: SampledStatus['answers'];
}

export interface MetricSources {
  /** The shards' current figures. */
  shards: () => Promise<ShardSnapshot[]>;
  shipper: ShipperThread | null;
  /** The stream sink (null when off). */
  stream?: StreamThread | null;
  process: ProcessMetrics;
  lifecycle: Lifecycle;
}

export class CollectorMetrics {
  /** Segment ship time (build and upload to confirmation), µs. */
  private readonly shipLatency = new WindowedHistogram();
  private shippedRecords = 0;
  /** Date.now() of the last segment confirmed in S3 (0: none yet). */
  private lastShippedAtMs = 0;

  constructor(private readonly s: MetricSources) {
    s.shipper?.onShipped((seg) => {
      this.shipLatency.record(seg.ms * 1000);
      this.shippedRecords += seg.records;
      this.lastShippedAtMs = Date.now();
    });
  }

  async prometheus(): Promise<string> {
    const { shipper, process: proc, lifecycle } = this.s;
    const shards = await this.s.shards();
    const m = mergeShards(shards);
    const r = m.requests;
    const w = m.wal;
    const out = new PrometheusText();
    // wal_instance, not instance: Prometheus sets `instance` on every scraped series itself.
    out.family('sluice_build_info', 'gauge', 'Version, commit, WAL instance ids and HTTP workers (shards) of this collector.').sample('sluice_build_info', 1, { version: VERSION, commit: COMMIT, wal_instance: w.instanceId, shards: String(shards.length) });
    const checks = lifecycle.checks();
    out.family('sluice_healthy', 'gauge', 'Health checks: 1 when passing. check="all" is what /health answers.');
    out.sample('sluice_healthy', checks.every((c) => c.ok) ? 1 : 0, { check: 'all' });
    for (const c of checks) out.sample('sluice_healthy', c.ok ? 1 : 0, { check: c.name });

    out.family('sluice_http_requests_total', 'counter', 'Requests answered, by endpoint, method and status.');
    for (const [endpoint, method, status, n] of r.answers) out.sample('sluice_http_requests_total', n, { endpoint, method: method.toUpperCase(), status: String(status) });
    out.family('sluice_http_requests_aborted_total', 'counter', 'Requests whose client went away before the answer, by endpoint.');
    for (const endpoint of ENDPOINTS) out.sample('sluice_http_requests_aborted_total', r.aborts[endpoint] ?? 0, { endpoint });
    out.single('sluice_http_connections', 'gauge', 'TCP connections open on the public port.', r.connections.open);
    out.family('sluice_http_connections_closed_at_cap_total', 'counter', 'Connections closed at collector.networking.maxConnections: the longest-idle one evicted to admit a new one, or the new one refused when none was idle.')
      .sample('sluice_http_connections_closed_at_cap_total', r.connections.evicted, { reason: 'evicted-idle' })
      .sample('sluice_http_connections_closed_at_cap_total', r.connections.refused, { reason: 'refused' });
    out.single('sluice_http_request_body_bytes_total', 'counter', 'Request body bytes received.', r.bodyBytes);
    out.single('sluice_http_acknowledged_total', 'counter', 'Requests whose records were stored and acknowledged (200, or 302 for redirects).', r.acknowledged);
    const several = shards.length > 1 ? ' With several HTTP workers a quantile is the largest of the workers\'.' : '';
    out.summary('sluice_ack_latency_seconds', `Request to acknowledgement for requests that store records (quantiles over the last minute; 1 is the maximum).${several}`, r.ackLatency, 1e6);
    out.histogram('sluice_http_ack_duration_seconds', 'Request to acknowledgement for requests that store records, since start: the histogram to aggregate across instances (histogram_quantile).', r.ackBuckets, 1e6);
    out.histogram('sluice_http_request_events', 'Tracker events per acknowledged request: 1 for a pixel or webhook, the batch size for tp2.', r.events);
    out.single('sluice_http_events_total', 'counter', 'Tracker events in acknowledged requests (the sum of sluice_http_request_events).', r.events.sum);

    out.family('sluice_wal_records_appended_total', 'counter', 'Records appended to the WAL: good (one per tracker request or split part) and bad rows.')
      .sample('sluice_wal_records_appended_total', w.goodRecords, { kind: 'good' })
      .sample('sluice_wal_records_appended_total', w.badRecords, { kind: 'bad' });
    out.single('sluice_wal_appended_bytes_total', 'counter', 'Record bytes appended to the WAL (without framing).', w.bytes);
    out.single('sluice_wal_syncs_total', 'counter', 'Group-commit syncs completed.', w.syncs);
    out.single('sluice_wal_loop_syncs_total', 'counter', 'Of these, syncs run on the event loop instead of the thread pool (small groups while the device is fast: wal.loopSyncGroup, wal.loopSyncBelowMs).', w.loopSyncs);
    out.summary('sluice_wal_append_latency_seconds', `Time to append one request's records to the mapped segment.${several}`, w.appendLatency, 1e6);
    out.summary('sluice_wal_sync_latency_seconds', `Duration of one group-commit sync (fdatasync of the files written, and the directory when it changed).${several}`, w.syncLatency, 1e6);
    out.histogram('sluice_wal_sync_duration_seconds', 'Duration of one group-commit sync since start, in fixed buckets (aggregate across instances).', w.syncBuckets, 1e6);
    out.summary('sluice_wal_group_commit_requests', `Requests acknowledged by one sync.${several}`, w.groupRequests);
    out.summary('sluice_wal_group_commit_records', `Records made durable by one sync.${several}`, w.groupRecords);
    out.single('sluice_wal_pending_records', 'gauge', 'Records appended and waiting for their sync.', w.pendingRecords);
    out.family('sluice_wal_segments', 'gauge', 'WAL segments not yet shipped: the open ones (one per shard) and sealed ones.')
      .sample('sluice_wal_segments', shards.length, { state: 'open' })
      .sample('sluice_wal_segments', w.sealedSegments, { state: 'sealed' });
    out.single('sluice_wal_segments_sealed_total', 'counter', 'Segments sealed by this process.', w.segmentsSealed);
    out.single('sluice_wal_segments_released_total', 'counter', 'Segments shipped and removed from the WAL (or archived) by this process.', w.segmentsReleased);
    out.single('sluice_wal_segments_recycled_total', 'counter', 'Released segments whose file was kept as a spare (reused in place with its mapping).', w.segmentsRecycled);
    out.single('sluice_wal_spares_created_total', 'counter', 'New spare segment files written whole (zero-filled), at start and since; with shipping, later spares are mostly recycled segments (sluice_wal_segments_recycled_total).', w.sparesCreated);
    out.single('sluice_wal_unshipped_bytes', 'gauge', 'Bytes in the WAL not yet shipped (open and sealed segments).', w.unshippedBytes);
    out.single('sluice_wal_refused_total', 'counter', 'Submits the WAL refused (a bound was reached; the request got 503).', w.refused);
    if (w.freeDiskBytes !== null) out.single('sluice_wal_free_disk_bytes', 'gauge', 'Free bytes on the WAL volume (checked every 250 ms).', w.freeDiskBytes);

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
    const stream = this.s.stream ?? null;
    if (shipper !== null || stream !== null) {
      out.family('sluice_sink_last_success_timestamp_seconds', 'gauge', 'When each sink last confirmed data (an object in S3, a PutRecords call); 0: not yet. Alert on time() minus this.');
      if (shipper !== null) out.sample('sluice_sink_last_success_timestamp_seconds', this.lastShippedAtMs / 1000, { sink: 's3' });
      if (stream !== null) out.sample('sluice_sink_last_success_timestamp_seconds', (stream.stats?.lastPutAtMs ?? 0) / 1000, { sink: 'kinesis' });
    }
    if (stream !== null) renderStreamMetrics(out, stream.stats);
    out.summary('sluice_event_loop_delay_seconds', `Largest event-loop delay of each second (quantiles over the last minute).${shards.length > 1 ? ' The HTTP threads\' and the main thread\'s largest.' : ''}`, m.loopDelay, 1e6);
    proc.render(out);
    return out.toString();
  }

  async status(): Promise<StatusSnapshot> {
    const { shipper, process: proc, lifecycle } = this.s;
    const shards = await this.s.shards();
    const m = mergeShards(shards);
    const lat = m.requests.ackRecent;
    const health = lifecycle.checks();
    const stream = this.s.stream?.stats ?? null;
    return {
      at: Date.now(),
      version: VERSION,
      instanceId: m.wal.instanceId,
      shards: shards.length,
      healthy: health.every((c) => c.ok),
      health,
      acknowledged: m.requests.acknowledged,
      goodRecords: m.wal.goodRecords,
      badRecords: m.wal.badRecords,
      latencyMs: { p50: lat.p50 / 1000, p90: lat.p90 / 1000, p99: lat.p99 / 1000, p999: lat.p999 / 1000, max: lat.max / 1000 },
      walBacklogBytes: m.wal.unshippedBytes,
      sealedSegments: m.wal.sealedSegments,
      freeDiskBytes: m.wal.freeDiskBytes,
      shippingLagMs: shipper === null ? null : shipper.lagMs(),
      segmentsShipped: shipper?.stats?.shipped ?? 0,
      shipRetries: shipper?.stats?.retries ?? 0,
      shipLastError: shipper?.stats?.lastError ?? null,
      streamLagMs: stream === null ? null : stream.lagMs,
      streamRecordsPut: stream === null ? null : stream.recordsPut.good + stream.recordsPut.bad,
      streamLastError: stream?.lastError ?? null,
      answers: answerClasses(m.requests.answers),
      rssBytes: proc.rss(),
      eventLoopDelayMs: Math.max(m.loopDelayLastMs, proc.loop.lastSecondMaxDelayMs),
    };
  }
}

/** Answers since start by the classes the status page charts. */
function answerClasses(answers: ReadonlyArray<readonly [string, string, number, number]>): StatusSnapshot['answers'] {
  const out = { s408: 0, s413: 0, s503: 0, otherErrors: 0 };
  for (const [, , status, n] of answers) {
    if (status === 408) out.s408 += n;
    else if (status === 413) out.s413 += n;
    else if (status === 503) out.s503 += n;
    else if (status >= 400) out.otherErrors += n;
  }
  return out;
}
