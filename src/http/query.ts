/** Lenient percent-decoding and parameter lookup on a raw query string, without a full parse. */

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes `+` and `%XX` (form encoding). Invalid escapes are kept as written and invalid UTF-8
 * becomes U+FFFD, so broken input never throws.
 */
export function decodeQueryComponent(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) { bytes.push(0x20); continue; }
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) { bytes.push((hi << 4) | lo); i += 2; continue; }
    }
    if (c < 0x80) { bytes.push(c); continue; }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (ch.length === 2) i++;
    for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decoded value of the first parameter called `name`, or null. */
export function queryParam(query: string, name: string): string | null {
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    if (end - start >= name.length && query.startsWith(name, start)) {
      const after = start + name.length;
      if (after === end) return '';
      if (query.charCodeAt(after) === 0x3d) return decodeQueryComponent(query.slice(after + 1, end));
    }
    start = end + 1;
  }
  return null;
}
