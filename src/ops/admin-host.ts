/**
 * Which Host headers the admin port answers: loopback names and addresses, the address it binds,
 * and the names configured in admin.allowedHosts. A page fetched through DNS rebinding (a name
 * the attacker controls, resolving to 127.0.0.1) carries the attacker's name and gets 421.
 */
import { isIP } from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** The host of a Host header without its port, lower-cased; IPv6 without brackets. */
export function hostOnly(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close < 0 ? h : h.slice(1, close);
  }
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export class AdminHostPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(bindAddress: string, allowedHosts: readonly string[]) {
    this.allowed = new Set([...LOOPBACK_NAMES, bindAddress.toLowerCase(), ...allowedHosts.map((h) => h.toLowerCase())]);
  }

  /** True when a request with this Host header (undefined: none) may be answered. */
  allows(host: string | undefined): boolean {
    if (host === undefined || host === '') return false;
    const name = hostOnly(host);
    if (this.allowed.has(name)) return true;
    // 127.0.0.0/8 is loopback as a whole.
    return isIP(name) === 4 && name.startsWith('127.');
  }
}
