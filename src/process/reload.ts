/**
 * What a SIGHUP can change without a restart, and what it cannot. The collector's behaviour
 * (cookies, CORS, redirects, do-not-track, HSTS, P3P, the root and crossdomain answers, custom
 * paths) and the shipping-lag health bound apply to the next requests; everything else (ports, limits,
 * the WAL, shipping, S3) is reported as needing a restart and keeps its running value.
 */
import type { SluiceConfig } from '../config/types';

/** Keys (and the keys below them) a reload applies. */
const RELOADABLE = [
  'collector.paths', 'collector.p3p', 'collector.crossDomain', 'collector.cookie', 'collector.doNotTrackCookie',
  'collector.cookieBounce', 'collector.enableDefaultRedirect', 'collector.redirectDomains', 'collector.rootResponse',
  'collector.cors', 'collector.hsts', 'ship.maxLagMs',
] as const;

export interface ReloadPlan {
  /** Changed keys that take effect now. */
  applied: string[];
  /** Changed keys that keep their running value until a restart. */
  needRestart: string[];
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix !== '') out.set(prefix, '{}');
    for (const [k, v] of entries) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  out.set(prefix, JSON.stringify(value));
}

function reloadable(key: string): boolean {
  return RELOADABLE.some((r) => key === r || key.startsWith(`${r}.`));
}

/** The changed keys between the running configuration and a new one, split by what a reload does. */
export function planReload(running: SluiceConfig, next: SluiceConfig): ReloadPlan {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(running, '', a);
  flatten(next, '', b);
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
  return { applied: changed.filter(reloadable), needRestart: changed.filter((k) => !reloadable(k)) };
}

/** The running configuration with the reloadable part of `next` (the rest stays as it runs). */
export function reloadedConfig(running: SluiceConfig, next: SluiceConfig): SluiceConfig {
  return {
    ...running,
    collector: {
      ...running.collector,
      paths: next.collector.paths, p3p: next.collector.p3p, crossDomain: next.collector.crossDomain, cookie: next.collector.cookie,
      doNotTrackCookie: next.collector.doNotTrackCookie, cookieBounce: next.collector.cookieBounce, enableDefaultRedirect: next.collector.enableDefaultRedirect,
      redirectDomains: next.collector.redirectDomains, rootResponse: next.collector.rootResponse, cors: next.collector.cors, hsts: next.collector.hsts,
    },
    ship: { ...running.ship, maxLagMs: next.ship.maxLagMs },
  };
}
