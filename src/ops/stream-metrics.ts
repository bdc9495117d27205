/** The stream sink's figures in the Prometheus exposition (zeros until its thread first reports). */
import type { StreamStats } from '../ship/stream-protocol';
import type { PrometheusText } from './prometheus-text';

export function renderStreamMetrics(out: PrometheusText, s: StreamStats | null): void {
  out.family('sluice_stream_records_put_total', 'counter', 'Records confirmed by the stream (PutRecords), by stream: good records and bad rows.')
    .sample('sluice_stream_records_put_total', s?.recordsPut.good ?? 0, { stream: 'good' })
    .sample('sluice_stream_records_put_total', s?.recordsPut.bad ?? 0, { stream: 'bad' });
  out.single('sluice_stream_put_calls_total', 'counter', 'PutRecords calls made (first attempts and retries).', s?.calls ?? 0);
  out.single('sluice_stream_retries_total', 'counter', 'PutRecords retries: of the records a call failed, or of a whole call that failed.', s?.retries ?? 0);
  out.single('sluice_stream_throttled_records_total', 'counter', 'Records the stream refused with ProvisionedThroughputExceededException (retried).', s?.throttled ?? 0);
  out.single('sluice_stream_failed_calls_total', 'counter', 'PutRecords calls that failed whole (network, timeout, service error; retried).', s?.failedCalls ?? 0);
  out.single('sluice_stream_size_violations_total', 'counter', 'Good records over the good stream\'s maxBytes sent to the bad stream as size_violation rows.', s?.sizeViolations ?? 0);
  out.single('sluice_stream_resent_records_total', 'counter', 'Records sent again after a restart: between the checkpoint and the previous run\'s furthest send, so possibly in the stream twice.', s?.resent ?? 0);
  out.single('sluice_stream_lag_seconds', 'gauge', 'Age of the oldest event on disk and not yet confirmed by the stream (0 when caught up).', (s?.lagMs ?? 0) / 1000);
  out.single('sluice_stream_lag_bytes', 'gauge', 'WAL bytes on disk not yet read for the stream (framing included).', s?.lagBytes ?? 0);
  out.single('sluice_stream_batches_in_flight', 'gauge', 'PutRecords batches sent and not yet confirmed (stream.maxInFlightBatches at most).', s?.inFlightBatches ?? 0);
  out.single('sluice_stream_checkpoint_segment', 'gauge', 'Segment of the synced stream checkpoint (-1 before the first).', s?.checkpoint?.seq ?? -1);
  out.single('sluice_stream_checkpoint_offset_bytes', 'gauge', 'Byte offset in that segment up to which every record is in the stream.', s?.checkpoint?.offset ?? 0);
  out.single('sluice_stream_ready', 'gauge', '1 once both streams answered the start-up check.', s?.ready === true ? 1 : 0);
  out.single('sluice_stream_last_put_timestamp_seconds', 'gauge', 'When the stream last confirmed a PutRecords call (0: never).', (s?.lastPutAtMs ?? 0) / 1000);
}
