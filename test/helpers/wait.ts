/** Polling for a condition in tests, bounded in time. */

/** Resolves with fn's first non-null value; rejects after `ms` (fn is retried every `every` ms). */
export async function waitFor<T>(what: string, fn: () => Promise<T | null>, ms = 30_000, every = 200): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
