/**
 * The WAL directory's durable state: the instance id and the next segment sequence number, so a
 * sequence number is never reused even after every segment was shipped and deleted. Written as
 * a temporary file, synced, renamed over `wal.state`, and the directory synced.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_FILE, STATE_TMP_FILE } from './wal-files';

/** wal.state cannot be read: the operator must look at it before the WAL is used. */
export class WalStateError extends Error {
  readonly code = 'SLUICE_E_WAL_STATE';
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
