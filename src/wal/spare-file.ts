/**
 * The procedure that prepares one spare segment file, run on the spare thread (spare-worker.ts)
 * and, at start, on the main thread: zeros written a page at a time and synced in steps, at the
 * pace shared with the WAL, then the header and end marker, a sync, the rename to its segment name
 * and a sync of the directory. A roll then only starts writing into a file whose name is already
 * durable, so the first acknowledgement after a roll waits for no directory sync.
 */
import type * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** One spare to prepare: where it is written, the name and header it is given when ready. */
export interface PrepareRequest {
  /** The file written (a `.tmp` name, removed at recovery). */
  path: string;
  /** Its segment name once ready: renamed there, with the directory synced. */
  finalPath: string;
  dir: string;
  size: number;
  chunk: number;
  syncEvery: number;
  /** A new file, else the existing one is overwritten in place (its blocks and mapping stay). */
  create: boolean;
  /** The segment header and the end marker after it, written at offset 0 after the zeros. */
  header: Uint8Array;
}

/**
 * Writes zeros up to `size`, `chunk` bytes per write, syncing every `syncEvery` bytes and keeping
 * to the pace in `pace[0]` (KiB/s, 0 or null: none): from offset 0 in a new file, from where a
 * recycled file was truncated in an old one. Then the header, a sync, the rename and a sync of
 * the directory.
 */
export function prepareSpareSync(nodeFs: typeof fs, r: PrepareRequest, pace: Int32Array | null): void {
  const zeros = Buffer.alloc(r.chunk);
  const fd = nodeFs.openSync(r.path, r.create ? 'w' : 'r+');
  try {
    // A recycled file keeps its blocks up to where it was truncated: only the rest is written.
    const kept = r.create ? 0 : Math.min(r.size, nodeFs.fstatSync(fd).size);
    const from = kept - (kept % r.chunk);
    let unsynced = 0;
    const started = performance.now();
    for (let pos = from; pos < r.size; pos += r.chunk) {
      const n = Math.min(r.chunk, r.size - pos);
      nodeFs.writeSync(fd, zeros, 0, n, pos);
      unsynced += n;
      if (unsynced < r.syncEvery) continue;
      nodeFs.fdatasyncSync(fd);
      unsynced = 0;
      // No faster than pace[0] KiB/s since the start (0: no limit); a new pace wakes the wait.
      while (pace !== null) {
        const kib = Atomics.load(pace, 0);
        if (kib <= 0) break;
        const aheadMs = ((pos + n - from) / 1024 / kib) * 1000 - (performance.now() - started);
        if (aheadMs < 1) break;
        Atomics.wait(pace, 0, kib, Math.min(aheadMs, 100));
      }
    }
    nodeFs.writeSync(fd, r.header, 0, r.header.length, 0);
    nodeFs.fdatasyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
  nodeFs.renameSync(r.path, r.finalPath);
  const dirFd = nodeFs.openSync(r.dir, 'r');
  try {
    nodeFs.fsyncSync(dirFd);
  } finally {
    nodeFs.closeSync(dirFd);
  }
}
