/** The endpoint label of a request in the metrics: what it is to the collector, whatever its path. */

export const ENDPOINTS = ['pixel', 'tp2', 'vendor', 'redirect', 'preflight', 'health', 'other'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

const TP2 = '/com.snowplowanalytics.snowplow/tp2';

/** The endpoint label of a request (custom `paths` count as what they map to). */
export function endpointOf(method: string, path: string, customPaths: Readonly<Record<string, string>>): Endpoint {
  if (method === 'options') return 'preflight';
  if (path === '/i' || path === '/ice.png') return 'pixel';
  const target = customPaths[path] ?? path;
  if (target === TP2) return 'tp2';
  if (target.startsWith('/r/')) return 'redirect';
  if (path === '/health' || path === '/healthcheck' || path === '/sink-health') return 'health';
  const slash = target.indexOf('/', 1);
  if (slash > 1 && slash < target.length - 1 && target.indexOf('/', slash + 1) < 0) return 'vendor';
  return 'other';
}
