/**
 * A whole HTTP/1.1 response as one buffer, so each answer is one write (one syscall) on its
 * connection. Header values come from the configuration and from the request's own validated
 * headers; a CR, LF or NUL in one would split the response, so it is refused here (an invariant).
 */
import type { Refusal } from './parser-refusal';
import { statusText, TEXT_UTF8 } from './static-responses';

export interface ResponseFraming {
  /** `Connection: close` is sent and the connection closes after this answer. */
  close: boolean;
  /** An HTTP/1.0 client that asked for keep-alive: it is told so. */
  keepAlive10: boolean;
  /** HEAD: the headers (with the body's length), no body. */
  headOnly: boolean;
}

const SPLITS_RESPONSE = /[\r\n\0]/;

let dateSecond = -1;
let dateValue = '';

/** The Date header's value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

/**
 * `statusLine`: such as `200 OK`; `headers`: flat name, value pairs (Content-Length, Date and
 * Connection are added here).
 */
export function responseBytes(statusLine: string, headers: readonly string[], body: string | Buffer, framing: ResponseFraming): Buffer {
  const bodyLength = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  let head = `HTTP/1.1 ${statusLine}\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1]!;
    if (SPLITS_RESPONSE.test(value) || SPLITS_RESPONSE.test(headers[i]!)) throw new Error(`response header ${headers[i]} would split the response`);
    head += `${headers[i]!}: ${value}\r\n`;
  }
  head += `Content-Length: ${bodyLength}\r\nDate: ${httpDate()}\r\n`;
  if (framing.close) head += 'Connection: close\r\n';
  else if (framing.keepAlive10) head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  const headLength = head.length;
  const sendBody = framing.headOnly ? 0 : bodyLength;
  const out = Buffer.allocUnsafe(headLength + sendBody);
  // latin1: one byte per character, as node:http writes header strings.
  out.write(head, 0, headLength, 'latin1');
  if (sendBody > 0) {
    if (typeof body === 'string') out.write(body, headLength, sendBody, 'utf8');
    else body.copy(out, headLength);
  }
  return out;
}

/** The answer to a request refused before it had an exchange (framing, limits, timeout): it closes. */
export function refusalBytes(refusal: Refusal): Buffer {
  return responseBytes(statusText(refusal.status), ['Content-Type', TEXT_UTF8], refusal.body, { close: true, keepAlive10: false, headOnly: false });
}

/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
