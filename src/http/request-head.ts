/**
 * An HTTP/1.1 request head (request line and header fields, RFC 9112), parsed strictly: whatever
 * could frame a request two ways (two Content-Lengths, Content-Length beside Transfer-Encoding, a
 * Transfer-Encoding that does not end in chunked, obs-fold, a bare CR or LF, a NUL)
 * is refused with 400, so no proxy in front and Sluice can disagree on where a request ends.
 */
import type { Refusal } from './parser-refusal';

export interface HeadLimits {
  /** Longest request line (method, target, version); longer gets 400. */
  maxRequestLineLength: number;
  /** Largest total of header names and values (4 bytes of framing each); larger gets 431. */
  maxHeadersLength: number;
}

export interface RequestHead {
  /** As sent (a token; methods are case-sensitive). */
  method: string;
  /** The request target as sent: path and query, not decoded. */
  target: string;
  http10: boolean;
  /** Header names lower-cased, values without surrounding blanks, in arrival order. */
  names: string[];
  values: string[];
  /** -1: none. */
  contentLength: number;
  chunked: boolean;
  /** The connection stays open after the answer (HTTP/1.1 unless `close`; 1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** `Expect: 100-continue`: the client waits for an interim answer before its body. */
  expectContinue: boolean;
}

const BAD: Refusal = { status: 400, body: 'Bad Request' };
export const LINE_TOO_LONG: Refusal = { status: 400, body: 'Bad Request: request line too long' };
export const HEADERS_TOO_LARGE: Refusal = { status: 431, body: 'Request Header Fields Too Large' };

/** RFC 9110 token characters (method, field name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Request-target characters: visible ASCII and obs-text, no blanks or controls. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const DIGITS = /^[0-9]{1,15}$/;

/** Bytes a head may take before its end is seen: beyond this it is refused (see headOverflow). */
export function maxHeadBytes(limits: HeadLimits): number {
  return limits.maxRequestLineLength + 2 + limits.maxHeadersLength + 2;
}

/**
 * The refusal for `buffered` bytes of a head whose end has not arrived, or null while it may
 * still be accepted: the request line without its CRLF past its limit is 400 at once; a head
 * past everything the limits allow is 431 (or 400 if its line is the one too long).
 */
export function headOverflow(buffered: Buffer, from: number, limits: HeadLimits): Refusal | null {
  const length = buffered.length - from;
  if (length <= limits.maxRequestLineLength) return null;
  const lineEnd = buffered.indexOf('\r\n', from, 'latin1');
  if (lineEnd < 0 || lineEnd - from > limits.maxRequestLineLength) return LINE_TOO_LONG;
  return length > maxHeadBytes(limits) ? HEADERS_TOO_LARGE : null;
}

/** Parses `text`: a whole head as latin1, without its final empty line. */
export function parseRequestHead(text: string, limits: HeadLimits): RequestHead | Refusal {
  const lineEnd = text.indexOf('\r\n');
  const line = lineEnd < 0 ? text : text.slice(0, lineEnd);
  if (line.length > limits.maxRequestLineLength) return LINE_TOO_LONG;
  // NUL, CR and LF are the characters RFC 9110 §5.5 requires refused in a field (CR and LF only
  // as a line's CRLF, checked line by line); other controls it lets a recipient keep, and a
  // record stores them as bytes. The target admits no control at all (TARGET).
  if (text.indexOf('\0') >= 0) return BAD;
  if (!crlfOnly(text, 0, lineEnd < 0 ? text.length : lineEnd)) return BAD;
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0) return BAD;
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!TOKEN.test(method) || !TARGET.test(target)) return BAD;
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return BAD;
  const http10 = version === 'HTTP/1.0';

  const names: string[] = [];
  const values: string[] = [];
  let headerBytes = 0;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let close = false;
  let keepAliveToken = false;
  let expectContinue = false;
  let at = lineEnd < 0 ? text.length : lineEnd + 2;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    if (!crlfOnly(text, at, end)) return BAD;
    const first = text.charCodeAt(at);
    // obs-fold (a line starting with a blank) is refused, as RFC 9112 allows a server to do.
    if (first === 0x20 || first === 0x09) return BAD;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon >= end) return BAD;
    const rawName = text.slice(at, colon);
    if (!TOKEN.test(rawName)) return BAD;
    const value = trimBlanks(text, colon + 1, end);
    headerBytes += rawName.length + value.length + 4;
    if (headerBytes > limits.maxHeadersLength) return HEADERS_TOO_LARGE;
    const name = rawName.toLowerCase();
    names.push(name);
    values.push(value);
    switch (name) {
      case 'content-length':
        if (contentLength >= 0 || !DIGITS.test(value)) return BAD;
        contentLength = Number(value);
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const tk = token.trim();
          if (tk === 'close') close = true;
          else if (tk === 'keep-alive') keepAliveToken = true;
        }
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
      default:
        break;
    }
    at = end + 2;
  }
  let chunked = false;
  if (transferEncoding !== null) {
    // A request's body length must be knowable: chunked last, and never beside Content-Length.
    if (contentLength >= 0) return BAD;
    const codings = transferEncoding.toLowerCase().split(',').map((c) => c.trim());
    if (codings[codings.length - 1] !== 'chunked') return BAD;
    chunked = true;
  }
  const keepAlive = http10 ? keepAliveToken && !close : !close;
  return { method, target, http10, names, values, contentLength, chunked, keepAlive, expectContinue };
}

/** No CR or LF in text[from, to): the line ends at its CRLF (`to`) and nowhere before. */
function crlfOnly(text: string, from: number, to: number): boolean {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  return (cr < 0 || cr >= to) && (lf < 0 || lf > to);
}

/** text[from, to) without leading and trailing spaces and tabs (only those: obs-text stays). */
function trimBlanks(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && (text.charCodeAt(a) === 0x20 || text.charCodeAt(a) === 0x09)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 0x20 || text.charCodeAt(b - 1) === 0x09)) b--;
  return text.slice(a, b);
}

export function isRefusal(x: RequestHead | Refusal): x is Refusal {
  return 'status' in x;
}
