/**
 * The WAL directory's durable state: the instance id and the next segment sequence number, so a
 * sequence number is never reused even after every segment was shipped and deleted. Written as
 * a temporary file, synced, renamed over `wal.state`, and the directory synced.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WalState {
  instanceId: string;
  nextSeq: number;
}

const FILE = 'wal.state';

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readWalState(dir: string): WalState | null {
  const path = join(dir, FILE);
  if (!existsSync(path)) return null;
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const s = raw as Partial<WalState>;
  if (typeof s.instanceId !== 'string' || !/^[0-9a-f-]{36}$/.test(s.instanceId) || typeof s.nextSeq !== 'number' || !Number.isSafeInteger(s.nextSeq)) {
    throw new Error(`${path} is not a valid WAL state file`);
  }
  return { instanceId: s.instanceId, nextSeq: s.nextSeq };
}

export function writeWalState(dir: string, state: WalState): void {
  const tmp = join(dir, `${FILE}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, `${JSON.stringify(state)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, FILE));
  fsyncDir(dir);
}

export function newInstanceId(): string {
  return randomUUID();
}
