/**
 * Every file name in a WAL directory, in one place: what the collector, recovery, the shipper and
 * the tools create, look for and remove.
 *
 *   wal.lock                     the owner's flock (wal-lock.ts), never deleted
 *   collector.pid                the serving collector's pid, for operators' scripts
 *   wal.state (+ .tmp)           instance id and reserved sequence numbers (wal-state.ts)
 *   segment-<seq, 20 digits>.seg a segment, open or sealed
 *   spare.tmp, spare-<seq>.tmp   a spare being prepared (removed at recovery)
 *   quarantine/                  originals of cut segments and unreadable ones, never deleted
 *   outbox/                      the shipper's reserved build files
 *   stream.checkpoint            the stream sink's durable position (stream-checkpoint.ts)
 *   stream.sent                  the furthest position it has sent (not synced; sizes duplicates)
 *   shard-<n>/                   one WAL per HTTP worker when wal.shards > 1
 */
import { join } from 'node:path';

export const LOCK_FILE = 'wal.lock';
export const PID_FILE = 'collector.pid';
export const STATE_FILE = 'wal.state';
export const STATE_TMP_FILE = 'wal.state.tmp';
export const QUARANTINE_DIR = 'quarantine';
export const OUTBOX_DIR = 'outbox';
export const STREAM_CHECKPOINT_FILE = 'stream.checkpoint';
export const STREAM_SENT_FILE = 'stream.sent';

export function segmentFileName(seq: number): string {
  return `segment-${String(seq).padStart(20, '0')}.seg`;
}

export const SEGMENT_NAME = /^segment-(\d{20})\.seg$/;
/** A quarantined copy: the segment's name and the time it was quarantined. */
export const QUARANTINED_SEGMENT_NAME = /^segment-(\d{20})\.seg\./;

/** The fresh spare segment file; recycled spares are `spare-<seq>.tmp`. Both are removed at recovery. */
export const FRESH_SPARE = 'spare.tmp';
export const SPARE_NAME = /^spare(-\d+)?\.tmp$/;

export function recycledSpareName(seq: number): string {
  return `spare-${seq}.tmp`;
}

export const SHARD_DIR_NAME = /^shard-(\d+)$/;

export function shardDir(walDir: string, shard: number): string {
  return join(walDir, `shard-${shard}`);
}
