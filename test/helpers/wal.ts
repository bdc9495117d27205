/** In-process WAL helpers for tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog, type WalOptions } from '../../src/wal/write-ahead-log';
import type { CommitWaiter } from '../../src/wal/record-sink';

export const quietLog = { info: (): void => undefined, warn: (): void => undefined };

export function tempDir(prefix = 'sluice-wal-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function openWal(dir: string, over: Partial<WalOptions> = {}): WriteAheadLog {
  return WriteAheadLog.open({
    dir, durability: 'fsync', segmentBytes: 256 * 1024, maxSegmentAgeMs: 60_000, maxPendingRecords: 100_000,
    maxUnshippedBytes: 1024 ** 3, minFreeBytes: 0, maxSyncLatencyMs: 5000, spareSegments: 1, recycleSegments: 2, log: quietLog, ...over,
  });
}

/** Submits and resolves once durable: true, or false when refused; rejects on a sync error. */
export function put(wal: WriteAheadLog, good: Buffer[], bad: Buffer[] = []): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const waiter: CommitWaiter = { onCommitted: (err) => (err === null ? resolve(true) : reject(err)) };
    if (!wal.submit(good, bad, waiter)) resolve(false);
  });
}

export function record(i: number, size = 100): Buffer {
  const head = Buffer.from(`record-${i}-`);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 0x61 + (i % 26))]);
}
