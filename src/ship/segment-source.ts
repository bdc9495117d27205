/**
 * Where the shipper's segments come from: one WAL on this thread, or several WAL shards owned by
 * HTTP workers (src/http/http-workers.ts). The shipper hears of every sealed segment, releases a
 * segment once its objects are confirmed, and asks how old the oldest unsealed record is.
 */
import { performance } from 'node:perf_hooks';
import type { SealedSegment } from '../wal/recovery';
import type { WriteAheadLog } from '../wal/write-ahead-log';
import type { SegmentRef } from './ship-plan';

export interface SegmentSource {
  /** Calls `listener` for every sealed segment not yet released, now and as they seal. */
  onSealed(listener: (seg: SegmentRef) => void): void;
  /** The segment is in S3: delete it, or move it to `archiveDir`. */
  release(instanceId: string, seq: number, archiveDir: string | null): void;
  /** Age in ms (monotonic) of the oldest record in an open segment; 0 when none has records. */
  openAgeMs(): number;
}

/** What the shipper needs of a sealed segment of the WAL `instanceId`. */
export function segmentRef(instanceId: string, s: SealedSegment): SegmentRef {
  return { instanceId, seq: s.seq, path: s.path, firstMs: s.footer.firstMs };
}

/** The single WAL of a collector serving HTTP on its main thread. */
export function walSegmentSource(wal: WriteAheadLog): SegmentSource {
  const ref = (s: SealedSegment): SegmentRef => segmentRef(wal.instanceId, s);
  return {
    onSealed(listener) {
      for (const s of wal.sealedSegments()) listener(ref(s));
      wal.onSealed((s) => listener(ref(s)));
    },
    release(instanceId, seq, archiveDir) {
      if (instanceId === wal.instanceId) wal.release(seq, archiveDir);
    },
    openAgeMs() {
      const first = wal.openSegmentFirstMono();
      return first === null ? 0 : performance.now() - first;
    },
  };
}
