/**
 * The front end's connections: at `maxConnections`, the connection idle the longest is closed to
 * admit the new one (a flood of idle keep-alive connections must not lock real clients out); only
 * when every connection has a request in progress is the new one refused. It also keeps a
 * malformed request's error answer behind the answers still owed on that connection, so a
 * pipelined client gets its answers in order.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What the guard reports (metrics). */
export interface ConnectionObserver {
  connectionOpened(): void;
  connectionClosed(): void;
  /** A new connection closed at once: the cap was reached and none was idle. */
  connectionRefused(): void;
  /** An idle connection closed to admit a new one at the cap. */
  connectionEvicted(): void;
}

interface Tracked {
  socket: Socket;
  /** Requests received on it and not yet answered. */
  pending: number;
  /** performance.now() when it last became idle (or opened). */
  idleSince: number;
  /** An error answer to write once the pending answers are out, then close. */
  deferredError: string | null;
}

export class ConnectionGuard {
  private readonly conns = new Map<Socket, Tracked>();

  constructor(private readonly maxConnections: number, private readonly observer: ConnectionObserver) {}

  get open(): number {
    return this.conns.size;
  }

  /** A new TCP connection. */
  opened(socket: Socket): void {
    const c: Tracked = { socket, pending: 0, idleSince: performance.now(), deferredError: null };
    this.conns.set(socket, c);
    this.observer.connectionOpened();
    socket.once('close', () => {
      if (this.conns.delete(socket)) this.observer.connectionClosed();
    });
    if (this.conns.size <= this.maxConnections) return;
    const victim = this.longestIdle(socket);
    if (victim === null) {
      this.observer.connectionRefused();
      socket.destroy();
      return;
    }
    this.observer.connectionEvicted();
    victim.socket.destroy();
  }

  private longestIdle(except: Socket): Tracked | null {
    let best: Tracked | null = null;
    for (const c of this.conns.values()) {
      if (c.socket === except || c.pending > 0) continue;
      if (best === null || c.idleSince < best.idleSince) best = c;
    }
    return best;
  }

  /** A request arrived on `socket`. */
  requestStarted(socket: Socket): void {
    const c = this.conns.get(socket);
    if (c !== undefined) c.pending++;
  }

  /** The request's answer is written (or the request was dropped with its connection). */
  requestEnded(socket: Socket): void {
    const c = this.conns.get(socket);
    if (c === undefined || c.pending === 0) return;
    c.pending--;
    if (c.pending > 0) return;
    c.idleSince = performance.now();
    if (c.deferredError !== null) this.writeErrorAndClose(c.socket, c.deferredError);
  }

  /**
   * Answers a request the parser refused (`raw`: a whole HTTP response) and closes: now when
   * nothing is owed on the connection, else after the answers owed.
   */
  refuse(socket: Socket, raw: string): void {
    const c = this.conns.get(socket);
    if (c !== undefined && c.pending > 0) {
      c.deferredError ??= raw;
      return;
    }
    this.writeErrorAndClose(socket, raw);
  }

  private writeErrorAndClose(socket: Socket, raw: string): void {
    if (socket.writable) socket.end(raw);
    else socket.destroy();
  }
}
