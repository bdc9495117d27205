/**
 * The WAL directory's owner: an exclusive flock(2) on `wal.lock`, taken before anything in the
 * directory is read or changed and held for the life of the process (the kernel drops it when the
 * process dies, SIGKILL included, so a crash never leaves a stale lock behind). A second
 * collector, or `sluice replay`, on a directory in use refuses with one line naming the holder.
 * The lock file is never deleted: removing a locked file would let the next process lock a new
 * file of the same name while the old holder still writes.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { flockSync } from 'fs-ext';
import { ERROR_CODES, SluiceError } from '../config/errors';
import { LOCK_FILE } from './wal-files';

/** Who holds a WAL directory, as written into the lock file by its holder. */
export interface LockHolder {
  pid: number;
  /** What holds it: `collector`, `replay`, ... */
  role: string;
  host: string;
  sinceIso: string;
}

export class WalLockedError extends SluiceError {
  constructor(readonly dir: string, readonly holder: LockHolder | null) {
    super(ERROR_CODES.walLocked, `${dir} is in use by ${holder === null ? 'another process' : `${holder.role} pid ${holder.pid} on ${holder.host} since ${holder.sinceIso}`}; stop it first or use another wal.dir (SLUICE_WAL_DIR)`);
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof raw !== 'object' || raw === null) return null;
    const h = raw as Record<string, unknown>;
    if (typeof h['pid'] !== 'number' || typeof h['role'] !== 'string' || typeof h['host'] !== 'string' || typeof h['sinceIso'] !== 'string') return null;
    return { pid: h['pid'], role: h['role'], host: h['host'], sinceIso: h['sinceIso'] };
  } catch {
    return null;
  }
}

export class WalLock {
  private fd: number | null;

  private constructor(readonly dir: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Takes the directory (creating it when absent) or throws WalLockedError. The fd is opened
   * close-on-exec by Node, so child processes never inherit the lock.
   */
  static acquire(dir: string, role: string): WalLock {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    const fd = openSync(path, 'a+');
    try {
      flockSync(fd, 'exnb');
    } catch (e) {
      closeSync(fd);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') throw new WalLockedError(dir, readHolder(path));
      throw e;
    }
    const holder: LockHolder = { pid: process.pid, role, host: hostname(), sinceIso: new Date().toISOString() };
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify(holder)}\n`, 0);
    return new WalLock(dir, fd);
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Gives the directory up (the process's exit does the same). */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    flockSync(fd, 'un');
    closeSync(fd);
  }
}
