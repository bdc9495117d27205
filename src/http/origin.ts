/** The Origin header as SSC 3.x reads it: space-separated origins, the first one answers CORS. */

export interface ParsedOrigin {
  /** `scheme://host[:port]` of the first origin: the Access-Control-Allow-Origin value. */
  allowOrigin: string;
  /** Lower-cased hosts of every origin, for the cookie domain choice. */
  hosts: string[];
}

const ORIGIN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{1,5}))?\/?$/;

/** Null when there is no usable origin (absent, `null`, or unparseable): answer `*`. */
export function parseOrigin(header: string | null): ParsedOrigin | null {
  if (header === null) return null;
  let first: string | null = null;
  const hosts: string[] = [];
  for (const part of header.split(' ')) {
    if (part === '') continue;
    const m = ORIGIN.exec(part);
    if (m === null) return null;
    const host = m[2]!.toLowerCase();
    hosts.push(host);
    if (first === null) first = `${m[1]!.toLowerCase()}://${host}${m[3] !== undefined ? `:${m[3]}` : ''}`;
  }
  return first === null ? null : { allowOrigin: first, hosts };
}
