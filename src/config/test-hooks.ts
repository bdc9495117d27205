/**
 * Fault injection for the reliability tests, read from the environment in this one place (each
 * is documented in docs/configuration.md, "Other environment variables"). Unset in production:
 * every hook is then a no-op.
 */

function numberFrom(name: string): number {
  const n = Number(process.env[name] ?? '0');
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export const testHooks = {
  /** SLUICE_FAULT_SYNC_DELAY_MS: delay every WAL sync by this many ms (a slow disk). */
  syncDelayMs: numberFrom('SLUICE_FAULT_SYNC_DELAY_MS'),
  /** SLUICE_FAULT_LOOP_BLOCK_MS: block the event loop this long every 1.5 s (a stall). */
  loopBlockMs: numberFrom('SLUICE_FAULT_LOOP_BLOCK_MS'),
  /** SLUICE_FAULT_KILL_AFTER_SHIP=1: SIGKILL after an upload is confirmed, before the WAL releases it. */
  killAfterShip: process.env['SLUICE_FAULT_KILL_AFTER_SHIP'] === '1',
} as const;
