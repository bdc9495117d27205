/**
 * What becomes of a shipped segment's file when the WAL cannot recycle it: moved to the archive
 * directory (kept `ship.archiveRetentionMs`), or deleted. The one place a shipped file leaves.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

export function retireSegmentFile(path: string, archiveDir: string | null): void {
  if (archiveDir === null) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(archiveDir, { recursive: true });
  renameSync(path, join(archiveDir, basename(path)));
}

/**
 * Who must be done with a sealed segment before it leaves the WAL: each enabled sink ('s3' the
 * shipper, 'stream' the stream sink). A segment is released only when every one of them has
 * said it is past it, so a sink that lags (a stream outage) keeps its segments on disk while the
 * other goes on.
 */
export type SegmentHolder = 's3' | 'stream';

export class ReleaseGate {
  /** Holders that have let go of each segment still held by another, by sequence number. */
  private readonly done = new Map<number, Set<SegmentHolder>>();
  /** Where a segment's file goes when released: the shipper's archive directory, if it named one. */
  private readonly archive = new Map<number, string>();

  constructor(readonly holders: readonly SegmentHolder[]) {
    if (new Set(holders).size !== holders.length) throw new Error(`holders named twice: ${holders.join(', ')}`);
  }

  /** `holder` is past segment `seq`; true when every holder now is (release it). */
  letGo(seq: number, holder: SegmentHolder, archiveDir: string | null): boolean {
    if (!this.holders.includes(holder)) throw new Error(`${holder} does not hold WAL segments here (holders: ${this.holders.join(', ') || 'none'})`);
    if (archiveDir !== null) this.archive.set(seq, archiveDir);
    const set = this.done.get(seq) ?? new Set<SegmentHolder>();
    set.add(holder);
    if (set.size < this.holders.length) {
      this.done.set(seq, set);
      return false;
    }
    this.done.delete(seq);
    return true;
  }

  /** The archive directory a holder named for `seq` (once released, forgotten). */
  takeArchiveDir(seq: number): string | null {
    const dir = this.archive.get(seq) ?? null;
    this.archive.delete(seq);
    return dir;
  }

  /** Segments some holders let go of and others still hold. */
  get partlyReleased(): number {
    return this.done.size;
  }
}
