/**
 * What a request the HTTP parser refused gets: 400 for broken framing, 400 for a request line
 * past the limit, 431 for headers past it, 408 for a request that did not arrive in time; always
 * with a close, since where the next request would start is unknown.
 */
import { statusText, TEXT_UTF8 } from './static-responses';


export interface Refusal {
  status: number;
  body: string;
}

/** A whole HTTP response with a close, for writing to the socket. */
export function rawAnswer(status: number, body: string): string {
  return `HTTP/1.1 ${statusText(status)}\r\nContent-Type: ${TEXT_UTF8}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
