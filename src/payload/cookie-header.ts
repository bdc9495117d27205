/** The Cookie header's grammar (RFC 6265): finding a cookie, cookie-octets, and the rewrite records carry. */

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
