/** Reads the admin port: one Prometheus sample, and /health's checks. */
import { request } from './http';

/** The value of `name{labels}` in the exposition (null when absent). `labels` as written, e.g. `stream="good"`. */
export async function metric(adminPort: number, name: string, labels = ''): Promise<number | null> {
  const r = await request(adminPort, { path: '/metrics' });
  const want = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = r.body.toString('utf8').split('\n').find((l) => l.startsWith(want));
  return line === undefined ? null : Number(line.slice(want.length));
}

export interface HealthAnswer {
  healthy: boolean;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

export async function healthDetail(adminPort: number): Promise<HealthAnswer> {
  const r = await request(adminPort, { path: '/health' });
  return JSON.parse(r.body.toString('utf8')) as HealthAnswer;
}
