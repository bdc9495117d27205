/**
 * /r/* redirect targets. The `u` parameter must be an absolute http(s) URL whose host is on the
 * allow-list (exact match; empty list allows any host). The check uses the WHATWG URL parser,
 * which is how browsers read the Location header, and the Location sent is the parsed URL, so
 * userinfo, backslash, case, IDN and port tricks are judged on the host a browser would visit.
 */

export class RedirectPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(domains: readonly string[]) {
    this.allowed = new Set(domains.map((d) => new URL(`http://${d}`).hostname));
  }

  /** The Location to send, or null when the target is missing or not allowed (400). */
  target(u: string | null): string | null {
    if (u === null || u === '') return null;
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.hostname === '') return null;
    if (this.allowed.size > 0 && !this.allowed.has(url.hostname)) return null;
    return url.href;
  }
}
