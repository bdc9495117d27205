/**
 * Keeps one zero-filled, synced spare file of the segment size ready, written on the libuv pool,
 * so rolling to a new segment never waits for disk allocation, and writing into the mapping
 * can never hit an unallocated block (SIGBUS on a full disk). ENOSPC is reported, not thrown.
 */
import { close, closeSync, fdatasync, fdatasyncSync, open, openSync, rmSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK = Buffer.alloc(1024 * 1024);

export class Preallocator {
  private ready = false;
  private running = false;
  private lastError: Error | null = null;
  private closed = false;
  readonly path: string;

  constructor(dir: string, private readonly size: number) {
    this.path = join(dir, 'spare.tmp');
  }

  /** Prepares the spare synchronously: at start, before anything is served. */
  fillNowSync(): void {
    if (this.ready) return;
    const fd = openSync(this.path, 'w');
    try {
      for (let pos = 0; pos < this.size; pos += CHUNK.length) writeSync(fd, CHUNK, 0, Math.min(CHUNK.length, this.size - pos), pos);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.ready = true;
  }

  /** True when a spare file can be taken. */
  get available(): boolean {
    return this.ready;
  }

  get error(): Error | null {
    return this.lastError;
  }

  /** Takes the spare (the caller renames it); starts preparing the next one. */
  take(): string {
    if (!this.ready) throw new Error('no spare segment is ready');
    this.ready = false;
    return this.path;
  }

  /** Starts preparing a spare if none is ready or in progress. */
  ensure(): void {
    if (this.ready || this.running || this.closed) return;
    this.running = true;
    const fail = (err: Error, fd: number | null): void => {
      const finish = (): void => {
        rmSync(this.path, { force: true });
        this.running = false;
        this.lastError = err;
      };
      if (fd === null) finish(); else close(fd, finish);
    };
    open(this.path, 'w', (err, fd) => {
      if (err !== null) { fail(err, null); return; }
      let pos = 0;
      const next = (): void => {
        if (this.closed) { fail(new Error('closed'), fd); return; }
        if (pos >= this.size) {
          fdatasync(fd, (e) => {
            if (e !== null) { fail(e, fd); return; }
            close(fd, (e2) => {
              this.running = false;
              if (e2 !== null) { this.lastError = e2; return; }
              this.lastError = null;
              this.ready = true;
            });
          });
          return;
        }
        const n = Math.min(CHUNK.length, this.size - pos);
        write(fd, CHUNK, 0, n, pos, (e, written) => {
          if (e !== null) { fail(e, fd); return; }
          pos += written;
          next();
        });
      };
      next();
    });
  }

  close(): void {
    this.closed = true;
  }
}
