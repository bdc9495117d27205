/**
 * Whether the WAL takes records now: while it cannot promise durability it refuses them, and
 * the front end answers 503 and /health says why. Each condition clears by itself.
 */

/** What admission looks at, read from the WAL at each request. */
export interface AdmissionState {
  /** A sync failed: nothing more is durable until a restart. */
  syncFailure: Error | null;
  closing: boolean;
  /** No spare is ready for the next roll and the last attempt to make one failed. */
  spareFailure: Error | null;
  freeDiskBytes: number;
  unshippedBytes: number;
  /** Milliseconds the running sync has taken so far (0: none runs). */
  runningSyncMs: number;
  /** Milliseconds the last completed sync took. */
  lastSyncMs: number;
}

export interface AdmissionLimits {
  minFreeBytes: number;
  maxUnshippedBytes: number;
  maxSyncLatencyMs: number;
}

/** Null while records are accepted, else why not. */
export function refusalReason(s: AdmissionState, l: AdmissionLimits): string | null {
  if (s.syncFailure !== null) return `WAL sync failed: ${s.syncFailure.message}`;
  if (s.closing) return 'WAL closing';
  if (s.spareFailure !== null) return `cannot preallocate the next segment: ${(s.spareFailure as NodeJS.ErrnoException).code ?? s.spareFailure.message}`;
  if (s.freeDiskBytes < l.minFreeBytes) return `free disk ${s.freeDiskBytes} bytes is below the floor of ${l.minFreeBytes}`;
  if (s.unshippedBytes > l.maxUnshippedBytes) return `unshipped WAL bytes ${s.unshippedBytes} exceed the cap of ${l.maxUnshippedBytes}`;
  if (s.runningSyncMs > l.maxSyncLatencyMs) return `a WAL sync has been running for ${Math.round(s.runningSyncMs)} ms (bound ${l.maxSyncLatencyMs} ms)`;
  if (s.lastSyncMs > l.maxSyncLatencyMs) return `the last WAL sync took ${Math.round(s.lastSyncMs)} ms (bound ${l.maxSyncLatencyMs} ms)`;
  return null;
}
