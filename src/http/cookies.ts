/** Request cookie parsing, the RFC 6265 Cookie rewrite for records, and Set-Cookie rendering. */
import type { CookieConfig } from '../config/types';

/** Value of the first cookie called `name` in a Cookie header, or null. */
export function findCookie(header: string, name: string): string | null {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > 0 && eq < end) {
      const key = header.slice(start, eq).trim();
      if (key === name) {
        let value = header.slice(eq + 1, end).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        return value;
      }
    }
    start = end + 1;
  }
  return null;
}

/** True for an RFC 6265 cookie-octet (a UTF-16 code unit): printable ASCII but `"` `,` `;` `\\`. */
export function isCookieOctet(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

/** True for an RFC 6265 cookie-octet string (what may be echoed into Set-Cookie safely). */
export function isCookieValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (!isCookieOctet(v.charCodeAt(i))) return false;
  return true;
}

/**
 * SSC 3.2.1+ Cookie rewrite for the record: drop all spaces, split on `;`, drop every part with a
 * character outside cookie-octet (JSON-valued cookies), join with `;`; null when nothing remains.
 */
export function rewriteCookieHeader(value: string): string | null {
  const parts = value.replace(/ /g, '').split(';');
  let out = '';
  for (const part of parts) {
    if (part === '' || !isCookieValue(part)) continue;
    out = out === '' ? part : `${out};${part}`;
  }
  return out === '' ? null : out;
}

/** True when `host` is `domain` or a subdomain of it. */
export function domainMatches(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** SSC cookie domain: first configured domain matched by an Origin host, else the fallback. */
export function chooseCookieDomain(cfg: CookieConfig, originHosts: readonly string[]): string | null {
  for (const domain of cfg.domains) {
    for (const host of originHosts) if (domainMatches(host, domain)) return domain;
  }
  return cfg.fallbackDomain;
}

/** Renders Set-Cookie values in http4s attribute order; the Expires text is cached per second. */
export class SetCookieRenderer {
  private expiresSecond = -1;
  private expiresText = '';
  private expiredSecond = -1;
  private expiredText = '';
  private readonly tail: string;
  private readonly clientTail: string;

  constructor(private readonly cfg: CookieConfig) {
    const secure = cfg.secure || cfg.sameSite === 'None';
    const sameSite = `; SameSite=${cfg.sameSite}`;
    this.tail = `Path=/${sameSite}${secure ? '; Secure' : ''}${cfg.httpOnly ? '; HttpOnly' : ''}`;
    this.clientTail = `Path=/${sameSite}${secure ? '; Secure' : ''}`;
  }

  private expires(nowMs: number, sign: 1 | -1): string {
    const second = Math.floor(nowMs / 1000);
    if (sign === 1) {
      if (second !== this.expiresSecond) {
        this.expiresSecond = second;
        this.expiresText = new Date(second * 1000 + this.cfg.expiration).toUTCString();
      }
      return this.expiresText;
    }
    if (second !== this.expiredSecond) {
      this.expiredSecond = second;
      this.expiredText = new Date(second * 1000 - this.cfg.expiration).toUTCString();
    }
    return this.expiredText;
  }

  /**
   * The Set-Cookie values for one response: the main cookie and, when configured, the client
   * copy (never HttpOnly). `expire` renders the deletion SSC 3.4 sends to anonymous requests.
   */
  render(value: string, domain: string | null, nowMs: number, expire: boolean): string[] {
    const expires = this.expires(nowMs, expire ? -1 : 1);
    const domainPart = domain === null ? '' : `Domain=${domain}; `;
    const middle = `=${expire ? '' : value}; Expires=${expires}; ${domainPart}`;
    const main = `${this.cfg.name}${middle}${this.tail}`;
    if (this.cfg.clientCookieName === null) return [main];
    return [main, `${this.cfg.clientCookieName}${middle}${this.clientTail}`];
  }
}
