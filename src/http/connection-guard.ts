/**
 * The front end's connections: at `maxConnections`, the connection idle the longest is closed to
 * admit the new one (a flood of idle keep-alive connections must not lock real clients out); only
 * when every connection has a request in progress is the new one refused.
 */

/** What the guard reports (metrics). */
export interface ConnectionObserver {
  connectionOpened(): void;
  connectionClosed(): void;
  /** A new connection closed at once: the cap was reached and none was idle. */
  connectionRefused(): void;
  /** An idle connection closed to admit a new one at the cap. */
  connectionEvicted(): void;
}

/** What the guard needs of a connection. */
export interface Guarded {
  /** Nothing half-read and nothing owed. */
  readonly idle: boolean;
  /** performance.now() when it last became idle (or opened). */
  readonly idleSince: number;
  destroy(): void;
}

export class ConnectionGuard<C extends Guarded> {
  private readonly conns = new Set<C>();

  constructor(private readonly maxConnections: number, private readonly observer: ConnectionObserver) {}

  get open(): number {
    return this.conns.size;
  }

  /** Every open connection (for the timeout sweep). */
  all(): IterableIterator<C> {
    return this.conns.values();
  }

  /** A new connection; false when it was refused (closed at once). */
  opened(conn: C): boolean {
    this.conns.add(conn);
    this.observer.connectionOpened();
    if (this.conns.size <= this.maxConnections) return true;
    const victim = this.longestIdle(conn);
    if (victim === null) {
      this.observer.connectionRefused();
      conn.destroy();
      return false;
    }
    this.observer.connectionEvicted();
    victim.destroy();
    return true;
  }

  /** The connection closed (whoever closed it). */
  closed(conn: C): void {
    if (this.conns.delete(conn)) this.observer.connectionClosed();
  }

  private longestIdle(except: C): C | null {
    let best: C | null = null;
    for (const c of this.conns) {
      if (c === except || !c.idle) continue;
      if (best === null || c.idleSince < best.idleSince) best = c;
    }
    return best;
  }
}
