/** What the front end copies out of an HTTP request: the fields the collector and the record read. */

export interface CapturedRequest {
  /** Lower-case method. */
  method: string;
  /** Path as received (not decoded). */
  path: string;
  /** Raw query string without `?`; '' when absent. */
  query: string;
  /** Header names (lower-case) and values, in arrival order. */
  names: string[];
  values: string[];
  /** Peer address, rendered as a record's ipAddress. */
  peer: string;
  /** Request body (POST only). */
  body: Buffer | null;
  /** First values of the headers the collector reads; null when absent. */
  userAgent: string | null;
  referer: string | null;
  contentType: string | null;
  origin: string | null;
  host: string | null;
  forwardedFor: string | null;
  anonymous: boolean;
  /** Every Cookie header value. */
  cookies: string[];
}

export function emptyCapturedRequest(method: string, path: string, query: string, peer: string): CapturedRequest {
  return {
    method, path, query, names: [], values: [], peer, body: null,
    userAgent: null, referer: null, contentType: null, origin: null, host: null, forwardedFor: null,
    anonymous: false, cookies: [],
  };
}

/** Records one header into `req` (called for each header in arrival order). */
export function addHeader(req: CapturedRequest, name: string, value: string): void {
  req.names.push(name);
  req.values.push(value);
  switch (name) {
    case 'user-agent': if (req.userAgent === null) req.userAgent = value; break;
    case 'referer': if (req.referer === null) req.referer = value; break;
    case 'content-type': if (req.contentType === null) req.contentType = value; break;
    case 'origin': if (req.origin === null) req.origin = value; break;
    case 'host': if (req.host === null) req.host = value; break;
    case 'x-forwarded-for': if (req.forwardedFor === null) req.forwardedFor = value; break;
    case 'sp-anonymous': req.anonymous = true; break;
    case 'cookie': req.cookies.push(value); break;
    default: break;
  }
}

/** First value of a header by lower-case name, or null. */
export function headerValue(req: CapturedRequest, lower: string): string | null {
  const i = req.names.indexOf(lower);
  return i < 0 ? null : req.values[i]!;
}
