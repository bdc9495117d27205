/** The cookie domain and Set-Cookie rendering (the Cookie header's grammar is payload/cookie-header.ts). */
import type { CookieConfig } from '../config/types';

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
