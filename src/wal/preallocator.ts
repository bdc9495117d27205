/**
 * Keeps one zero-filled, synced spare file of the segment size ready, so rolling to a new segment
 * never waits for disk allocation, and writing into the mapping can never hit an unallocated
 * block (SIGBUS on a full disk). The spare is written by a small worker thread of its own, so the
 * thousands of writes it takes cost the event loop nothing. ENOSPC is reported, not thrown.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Zeros go out 16 KiB per write on purpose. The page cache sizes its folios after the write that
 * creates them: 1 MiB writes leave 1 MiB folios, and then every write fault into the mapping
 * dirties (and every fdatasync writes back) the whole folio. Measured here with 1.5 KB records and
 * a sync every 32 (bench/folio-probe.js): 1 MiB chunks wrote 1,069 KiB per sync (23x the data),
 * took 340 us per sync and 3.0 us per record; 16 KiB chunks wrote 63 KiB, 180 us and 0.8 us.
 */
export const ZERO_CHUNK_BYTES = 16 * 1024;

/**
 * Writes `size` zero bytes to a new file at `path`, `chunk` bytes per write, and syncs it.
 * Self-contained (it only uses its arguments): the worker thread runs its source text.
 */
function zeroFillSync(nodeFs: typeof fs, path: string, size: number, chunk: number): void {
  const zeros = Buffer.alloc(chunk);
  const fd = nodeFs.openSync(path, 'w');
  try {
    for (let pos = 0; pos < size; pos += chunk) nodeFs.writeSync(fd, zeros, 0, Math.min(chunk, size - pos), pos);
    nodeFs.fdatasyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
}

interface FillRequest { path: string; size: number; chunk: number }
type FillResult = { ok: true } | { ok: false; code: string | null; message: string };

/** The worker's program: fill on request, answer once per request; a failed fill leaves no file. */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
const zeroFillSync = ${zeroFillSync.toString()};
parentPort.on('message', (m) => {
  try {
    zeroFillSync(fs, m.path, m.size, m.chunk);
    parentPort.postMessage({ ok: true });
  } catch (e) {
    try { fs.rmSync(m.path, { force: true }); } catch {}
    parentPort.postMessage({ ok: false, code: typeof e.code === 'string' ? e.code : null, message: String(e.message) });
  }
});
`;

export class Preallocator {
  private ready = false;
  private running = false;
  private lastError: Error | null = null;
  private closed = false;
  private worker: Worker | null = null;
  readonly path: string;

  constructor(dir: string, private readonly size: number) {
    this.path = join(dir, 'spare.tmp');
  }

  /** Prepares the spare synchronously: at start, before anything is served. */
  fillNowSync(): void {
    if (this.ready) return;
    zeroFillSync(fs, this.path, this.size, ZERO_CHUNK_BYTES);
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
    const request: FillRequest = { path: this.path, size: this.size, chunk: ZERO_CHUNK_BYTES };
    this.fillWorker().postMessage(request);
  }

  private fillWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (m: FillResult) => {
      this.running = false;
      if (this.closed) return;
      if (m.ok) {
        this.lastError = null;
        this.ready = true;
        return;
      }
      const err: NodeJS.ErrnoException = new Error(m.message);
      if (m.code !== null) err.code = m.code;
      this.lastError = err;
    });
    worker.on('error', (e) => {
      this.running = false;
      this.lastError = e;
      this.worker = null;
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Stops preparing spares; resolves once the worker is gone (no write to the spare after it). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }
}
