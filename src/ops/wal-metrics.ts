/** The WAL's figures: records and bytes appended, append and sync latency, group-commit size. */
import type { WalObserver } from '../wal/write-ahead-log';
import type { PrometheusText } from './prometheus-text';
import { WindowedHistogram } from './windowed-histogram';

export class WalMetrics implements WalObserver {
  goodRecords = 0;
  badRecords = 0;
  bytes = 0;
  syncs = 0;
  readonly appendLatency = new WindowedHistogram();
  readonly syncLatency = new WindowedHistogram();
  /** Requests answered by one sync. */
  readonly groupRequests = new WindowedHistogram();
  /** Records made durable by one sync. */
  readonly groupRecords = new WindowedHistogram();

  appended(good: number, bad: number, bytes: number, us: number): void {
    this.goodRecords += good;
    this.badRecords += bad;
    this.bytes += bytes;
    this.appendLatency.record(us);
  }

  readonly synced = (us: number, waiters: number, records: number): void => {
    this.syncs++;
    this.syncLatency.record(us);
    if (waiters > 0) this.groupRequests.record(waiters);
    if (records > 0) this.groupRecords.record(records);
  };

  render(out: PrometheusText): void {
    out.family('sluice_wal_records_appended_total', 'counter', 'Records appended to the WAL: good (one per tracker request or split part) and bad rows.')
      .sample('sluice_wal_records_appended_total', this.goodRecords, { kind: 'good' })
      .sample('sluice_wal_records_appended_total', this.badRecords, { kind: 'bad' });
    out.single('sluice_wal_appended_bytes_total', 'counter', 'Record bytes appended to the WAL (without framing).', this.bytes);
    out.single('sluice_wal_syncs_total', 'counter', 'Group-commit syncs completed.', this.syncs);
    out.summary('sluice_wal_append_latency_seconds', 'Time to append one request\'s records to the mapped segment.', this.appendLatency.snapshot(), 1e6);
    out.summary('sluice_wal_sync_latency_seconds', 'Duration of one group-commit sync (fdatasync of the files written, and the directory when it changed).', this.syncLatency.snapshot(), 1e6);
    out.summary('sluice_wal_group_commit_requests', 'Requests acknowledged by one sync.', this.groupRequests.snapshot());
    out.summary('sluice_wal_group_commit_records', 'Records made durable by one sync.', this.groupRecords.snapshot());
  }
}
