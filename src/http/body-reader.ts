/**
 * A request body as it arrives, framed by Content-Length or chunked (RFC 9112 §7.1): hands the
 * data on as slices of the input, whatever the split across reads. A chunk that does not end in
 * CRLF, a size that is not hex, or a size or trailer line past its bound is a framing error: the
 * request is refused and the connection closed, since where the next request starts is unknown.
 */

/** Longest chunk-size line (size and extensions) and total trailer bytes accepted. */
export const MAX_CHUNK_LINE_BYTES = 4096;
export const MAX_TRAILER_BYTES = 16 * 1024;

const enum State { Length, Size, Data, DataEnd, Trailer, Done, Failed }
const MORE = -1;
const BROKEN = -2;

export class BodyReader {
  private state: State;
  /** Bytes left: of the body (Length) or of the current chunk (Data). */
  private remaining: number;
  /** A size or trailer line so far (it may span reads). */
  private line = '';
  private trailerBytes = 0;
  /** After a chunk's data: its CR seen, LF awaited. */
  private sawCr = false;

  constructor(contentLength: number, chunked: boolean) {
    this.state = chunked ? State.Size : State.Length;
    this.remaining = chunked ? 0 : contentLength;
    if (!chunked && contentLength <= 0) this.state = State.Done;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  /**
   * Reads from buf[off]; body data goes to `onData`. Returns the offset after what it consumed:
   * the end of the body (done), the end of buf, or where the framing broke (failed).
   */
  feed(buf: Buffer, off: number, onData: (data: Buffer) => void): number {
    let at = off;
    while (at < buf.length) {
      switch (this.state) {
        case State.Length:
        case State.Data: {
          const take = Math.min(this.remaining, buf.length - at);
          if (take > 0) onData(buf.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.state === State.Length ? State.Done : State.DataEnd;
          break;
        }
        case State.DataEnd: {
          const c = buf[at++];
          if (!this.sawCr) {
            if (c !== 0x0d) return this.fail(at);
            this.sawCr = true;
          } else {
            if (c !== 0x0a) return this.fail(at);
            this.sawCr = false;
            this.state = State.Size;
          }
          break;
        }
        case State.Size: {
          const end = this.takeLine(buf, at, MAX_CHUNK_LINE_BYTES);
          if (end === BROKEN) return this.fail(at);
          if (end === MORE) return buf.length;
          at = end;
          const size = chunkSize(this.line);
          this.line = '';
          if (size < 0) return this.fail(at);
          if (size === 0) { this.state = State.Trailer; break; }
          this.remaining = size;
          this.state = State.Data;
          break;
        }
        case State.Trailer: {
          const end = this.takeLine(buf, at, MAX_TRAILER_BYTES - this.trailerBytes);
          if (end === BROKEN) return this.fail(at);
          if (end === MORE) return buf.length;
          this.trailerBytes += end - at;
          at = end;
          const last = this.line === '';
          this.line = '';
          if (last) { this.state = State.Done; return at; }
          break;
        }
        case State.Done:
        case State.Failed:
          return at;
      }
    }
    return at;
  }

  /**
   * Appends buf[at...] up to a CRLF to `line`; returns the offset after the CRLF, MORE when the
   * line goes on past buf, BROKEN past `max` bytes or without its CR.
   */
  private takeLine(buf: Buffer, at: number, max: number): number {
    const lf = buf.indexOf(0x0a, at);
    const end = lf < 0 ? buf.length : lf + 1;
    this.line += buf.toString('latin1', at, end);
    if (this.line.length > max) return BROKEN;
    if (lf < 0) return MORE;
    // The line must end in CRLF; it is kept without it.
    if (this.line.length < 2 || this.line.charCodeAt(this.line.length - 2) !== 0x0d) return BROKEN;
    this.line = this.line.slice(0, -2);
    if (this.line.includes('\r')) return BROKEN;
    return end;
  }

  private fail(at: number): number {
    this.state = State.Failed;
    return at;
  }
}

/** The size of a chunk-size line (hex, optional `;ext`), or -1 when it is not one. */
function chunkSize(line: string): number {
  const semi = line.indexOf(';');
  const hex = (semi < 0 ? line : line.slice(0, semi)).replace(/[ \t]+$/, '');
  if (!/^[0-9A-Fa-f]{1,12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}
