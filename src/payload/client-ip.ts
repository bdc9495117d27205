/** The record's ipAddress: first X-Forwarded-For entry when the header parses, else the TCP peer. */
import { isIP } from 'node:net';

/** Compressed IPv6 text (RFC 5952) from eight 16-bit groups. */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

function ipv6Groups(text: string): number[] | null {
  let s = text;
  let v4tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    if (v4.length !== 4 || v4.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return null;
    v4tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  if (groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  if (v4tail.length === 2) { groups[6] = v4tail[0]!; groups[7] = v4tail[1]!; }
  return groups;
}

/**
 * Renders an address as SSC 3.x does (ip4s toUriString): IPv4 dotted, IPv6 compressed in brackets.
 * IPv4-mapped IPv6 peers (how uWS reports IPv4 clients on a dual-stack socket) become IPv4.
 */
export function renderIp(text: string): string {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return text;
  const groups = ipv6Groups(text);
  if (groups === null) return `[${text}]`;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `${groups[6]! >>> 8}.${groups[6]! & 0xff}.${groups[7]! >>> 8}.${groups[7]! & 0xff}`;
  }
  return `[${compressIpv6(groups)}]`;
}

const peerCache = new Map<string, string>();

/** renderIp for the peer address text uWS gives, memoised (bounded). */
export function renderPeer(text: string): string {
  let ip = peerCache.get(text);
  if (ip === undefined) {
    ip = renderIp(text);
    if (peerCache.size > 10_000) peerCache.clear();
    peerCache.set(text, ip);
  }
  return ip;
}

function stripBrackets(entry: string): string {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    return close > 0 ? entry.slice(1, close) : entry;
  }
  return entry;
}

/**
 * First entry of an X-Forwarded-For header when every entry is an IP address or `unknown`
 * (http4s parses the header as a whole); null when it does not parse.
 */
export function forwardedFor(header: string): string | null {
  let first: string | null = null;
  for (const raw of header.split(',')) {
    const entry = raw.trim();
    if (entry === '') return null;
    if (entry.toLowerCase() === 'unknown') {
      if (first === null) first = 'unknown';
      continue;
    }
    const addr = stripBrackets(entry);
    if (isIP(addr) === 0) return null;
    if (first === null) first = renderIp(addr);
  }
  return first;
}
