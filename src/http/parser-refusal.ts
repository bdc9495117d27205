/**
 * What a request the HTTP parser refused gets: 400 for broken framing, 400 for a request line
 * past the limit, 431 for headers past it, 408 for headers that did not arrive in time; always
 * with a close, written straight to the socket (the parser gives no response object).
 */
import { statusText, TEXT_UTF8 } from './static-responses';


export interface Refusal {
  status: number;
  body: string;
}

/** The answer to the parser's error `err` (llhttp's code; `rawPacket`: the bytes it was parsing). */
export function parserRefusal(err: { code?: string; rawPacket?: Buffer }, maxRequestLineLength: number): Refusal {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // Past llhttp's bound: a request line still without its end is the line's fault.
    const lineEnd = err.rawPacket === undefined ? -1 : err.rawPacket.indexOf('\r\n');
    if (lineEnd < 0 || lineEnd > maxRequestLineLength) return { status: 400, body: 'Bad Request: request line too long' };
    return { status: 431, body: 'Request Header Fields Too Large' };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, body: 'Request timed out' };
  return { status: 400, body: 'Bad Request' };
}

/** A whole HTTP response with a close, for writing to the socket. */
export function rawAnswer(status: number, body: string): string {
  return `HTTP/1.1 ${statusText(status)}\r\nContent-Type: ${TEXT_UTF8}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
