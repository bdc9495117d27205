/**
 * What a request the HTTP parser refused gets: 400 for broken framing, 400 for a request line
 * past the limit, 431 for headers past it, 408 for a request that did not arrive in time; always
 * with a close, since where the next request would start is unknown (response-bytes.ts writes it).
 */
export interface Refusal {
  status: number;
  body: string;
}
