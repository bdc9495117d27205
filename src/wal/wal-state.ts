/**
 * The WAL directory's durable state: the instance id and the next segment sequence number, so a
 * sequence number is never reused even after every segment was shipped and deleted. Written as
 * a temporary file, synced, renamed over `wal.state`, and the directory synced.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, SluiceError } from '../config/errors';
import { STATE_FILE, STATE_TMP_FILE } from './wal-files';

/** wal.state cannot be read: the operator must look at it before the WAL is used. */
export class WalStateError extends SluiceError {
  constructor(message: string) {
    super(ERROR_CODES.walState, message);
  }
}

export interface WalState {
  instanceId: string;
  nextSeq: number;
}


export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readWalState(dir: string): WalState | null {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new WalStateError(`${path} is not a valid WAL state file (${(e as Error).message}); restore it or move it away to start a new instance id`);
  }
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<WalState>;
  if (typeof s.instanceId !== 'string' || !/^[0-9a-f-]{36}$/.test(s.instanceId) || typeof s.nextSeq !== 'number' || !Number.isSafeInteger(s.nextSeq)) {
    throw new WalStateError(`${path} is not a valid WAL state file (needs instanceId and nextSeq); restore it or move it away to start a new instance id`);
  }
  return { instanceId: s.instanceId, nextSeq: s.nextSeq };
}

export function writeWalState(dir: string, state: WalState): void {
  const tmp = join(dir, STATE_TMP_FILE);
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, `${JSON.stringify(state)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, STATE_FILE));
  fsyncDir(dir);
}

export function newInstanceId(): string {
  return randomUUID();
}

/** Sequence numbers reserved per state-file write. */
const SEQ_RESERVATION = 1024;

/**
 * Hands out segment sequence numbers, reserving them in blocks: the state file (two syncs) is
 * written once per SEQ_RESERVATION segments, not for every one. A restart skips what was left
 * unused, so a number is never used twice.
 */
export class SequenceReservation {
  /** Numbers below this one are recorded as used in the state file. */
  private reserved: number;

  constructor(private readonly dir: string, private readonly instanceId: string, private next: number) {
    this.reserved = next;
  }

  claim(): number {
    const seq = this.next++;
    if (this.next > this.reserved) {
      this.reserved = this.next + SEQ_RESERVATION;
      writeWalState(this.dir, { instanceId: this.instanceId, nextSeq: this.reserved });
    }
    return seq;
  }
}
