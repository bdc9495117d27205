/**
 * The front end keys headers by lower-cased name; records carry them with canonical casing
 * (`User-Agent`, `X-Forwarded-For`, `SP-Anonymous`), as SSC records what browsers send.
 */

/** Names whose canonical form is not plain Title-Case. */
const SPECIAL: Readonly<Record<string, string>> = {
  'sp-anonymous': 'SP-Anonymous',
  dnt: 'DNT',
  te: 'TE',
  etag: 'ETag',
  'content-md5': 'Content-MD5',
  'www-authenticate': 'WWW-Authenticate',
  'x-xss-protection': 'X-XSS-Protection',
  'x-att-deviceid': 'X-ATT-DeviceId',
  'x-uidh': 'X-UIDH',
  'x-csrf-token': 'X-CSRF-Token',
  'x-request-id': 'X-Request-ID',
  'x-correlation-id': 'X-Correlation-ID',
  'x-amzn-trace-id': 'X-Amzn-Trace-Id',
  'sec-ch-ua': 'Sec-CH-UA',
  'sec-ch-ua-mobile': 'Sec-CH-UA-Mobile',
  'sec-ch-ua-platform': 'Sec-CH-UA-Platform',
  'sec-gpc': 'Sec-GPC',
};

function titleCase(lower: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    out += upper ? c.toUpperCase() : c;
    upper = c === '-';
  }
  return out;
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, string>();

/** Canonical casing of a lower-case header name; memoised (bounded) since names repeat. */
export function canonicalHeaderName(lower: string): string {
  let name = cache.get(lower);
  if (name === undefined) {
    name = SPECIAL[lower] ?? titleCase(lower);
    if (cache.size < CACHE_LIMIT) cache.set(lower, name);
  }
  return name;
}
