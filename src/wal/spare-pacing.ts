/**
 * How spare segment files are written: in page-sized writes, synced in small steps, at a pace
 * set from the append rate, and only when no shipped segment's file is expected back. The
 * measurements behind each constant are in bench/RESULTS.md (spares) and bench/probes/folio-probe.js.
 */

/**
 * Zeros go out a page per write: the page cache sizes its folios after the write that creates
 * them, and a larger folio makes every later write fault and fdatasync of the mapping cover it whole.
 */
export const ZERO_CHUNK_BYTES = 4 * 1024;

/** A spare is synced every 256 KiB while it is written, so the WAL's own syncs never queue behind a whole segment of zeros. */
export const FILL_SYNC_BYTES = 256 * 1024;

/** The slowest a spare is written (KiB/s): 64 MiB in 4 s, whatever the load. */
export const FILL_PACE_FLOOR_KIB = 16 * 1024;
/** A spare is written this many times faster than records are appended. */
export const FILL_PACE_FACTOR = 4;

/** What the pace of the spare being written depends on. */
export interface FillPaceInputs {
  /** Bytes appended to the WAL per second, lately. */
  appendBytesPerSecond: number;
  /** A spare is ready for the next roll. */
  spareReady: boolean;
  /** How far the open segment is to its roll, 0..1: the larger of its fill and its age. */
  openSegmentProgress: number;
}

/**
 * The pace (KiB/s) for writing spares: FILL_PACE_FACTOR times the append rate, at least
 * FILL_PACE_FLOOR_KIB, so the zeros reach the device in small steps between the WAL's own syncs.
 * 0 (no limit) when no spare is ready and the open segment is past half way to its roll: a roll
 * must never wait for its spare.
 */
export function spareFillPace(p: FillPaceInputs): number {
  if (!p.spareReady && p.openSegmentProgress >= 0.5) return 0;
  return Math.max(FILL_PACE_FLOOR_KIB, Math.ceil((FILL_PACE_FACTOR * p.appendBytesPerSecond) / 1024));
}

/** What decides whether a new spare file is written now or a shipped one is waited for. */
export interface FreshSpareInputs {
  /** A segment sealed by this process awaits shipping: its file comes back as a spare. */
  recycledExpected: boolean;
  /** Spares ready for the next rolls. */
  sparesReady: number;
}

/**
 * True when a new spare file should be written now: when no shipped segment's file is expected
 * back, or when no spare is ready. A new spare writes the whole segment size, and those writes
 * meet the WAL's syncs on the device, while a shipped file comes back for its header's cost.
 */
export function freshSpareDue(p: FreshSpareInputs): boolean {
  return !p.recycledExpected || p.sparesReady === 0;
}

/** The WAL's append rate between two checks, which paces the spare being written. */
export class AppendRate {
  private appended = 0;
  private checkedBytes = 0;
  private checkedAt: number;

  constructor(now: number) {
    this.checkedAt = now;
  }

  add(bytes: number): void {
    this.appended += bytes;
  }

  /** Bytes per second since the previous call (null when no time has passed). */
  sample(now: number): number | null {
    const seconds = (now - this.checkedAt) / 1000;
    if (seconds <= 0) return null;
    const rate = (this.appended - this.checkedBytes) / seconds;
    this.checkedAt = now;
    this.checkedBytes = this.appended;
    return rate;
  }
}
