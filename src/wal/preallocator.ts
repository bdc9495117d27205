/**
 * Keeps a zero-filled, synced spare file of the segment size ready, so rolling to a new segment
 * never waits for disk allocation, and writing into the mapping can never hit an unallocated
 * block (SIGBUS on a full disk). ENOSPC is reported, not thrown.
 *
 * Shipped segments are recycled (at most `maxRecycled` spares at once): the file is zero-filled
 * again in place and keeps the memory mapping it had, so a roll maps nothing. Each new 64 MiB
 * mapping counts as V8 external memory and started a full mark-compact (4-10 ms with the
 * event loop stopped) at every roll; a recycled spare avoids that and the mmap call itself.
 *
 * Spares are written by a small worker thread of its own, so the thousands of writes a spare
 * takes cost the event loop nothing.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FRESH_SPARE } from './segment-format';

/**
 * Zeros go out 16 KiB per write on purpose. The page cache sizes its folios after the write that
 * creates them: 1 MiB writes leave 1 MiB folios, and then every write fault into the mapping
 * dirties (and every fdatasync writes back) the whole folio. Measured here with 1.5 KB records and
 * a sync every 32 (bench/folio-probe.js): 1 MiB chunks wrote 1,069 KiB per sync (23x the data),
 * took 340 us per sync and 3.0 us per record; 16 KiB chunks wrote 63 KiB, 180 us and 0.8 us.
 */
export const ZERO_CHUNK_BYTES = 16 * 1024;

/**
 * Writes `size` zero bytes over the file at `path` from offset 0, `chunk` bytes per write, and
 * syncs it; `create` makes a new file, else the existing one is overwritten in place (its blocks
 * and any mapping of it stay). Self-contained (it only uses its arguments): the worker thread
 * runs its source text.
 */
function zeroFillSync(nodeFs: typeof fs, path: string, size: number, chunk: number, create: boolean): void {
  const zeros = Buffer.alloc(chunk);
  const fd = nodeFs.openSync(path, create ? 'w' : 'r+');
  try {
    for (let pos = 0; pos < size; pos += chunk) nodeFs.writeSync(fd, zeros, 0, Math.min(chunk, size - pos), pos);
    nodeFs.fdatasyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
}

interface FillRequest { id: number; path: string; size: number; chunk: number; create: boolean }
type FillResult = { id: number; ok: true } | { id: number; ok: false; code: string | null; message: string };

/** The worker's program: fill on request, answer once per request; a failed fill leaves no file. */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
const zeroFillSync = ${zeroFillSync.toString()};
parentPort.on('message', (m) => {
  try {
    zeroFillSync(fs, m.path, m.size, m.chunk, m.create);
    parentPort.postMessage({ id: m.id, ok: true });
  } catch (e) {
    try { fs.rmSync(m.path, { force: true }); } catch {}
    parentPort.postMessage({ id: m.id, ok: false, code: typeof e.code === 'string' ? e.code : null, message: String(e.message) });
  }
});
`;

/** A spare segment file: zero-filled and synced once ready; `map` is its mapping when recycled. */
export interface Spare {
  path: string;
  map: Buffer | null;
}

export class Preallocator {
  private readonly ready: Spare[] = [];
  /** Fills sent to the worker and not answered yet, by request id. */
  private readonly filling = new Map<number, Spare>();
  private nextId = 1;
  private lastError: Error | null = null;
  private closed = false;
  private worker: Worker | null = null;
  private readonly path: string;

  constructor(private readonly dir: string, private readonly size: number, private readonly maxRecycled: number) {
    this.path = join(dir, FRESH_SPARE);
  }

  /**
   * At start, before anything is served: starts the worker thread (it boots meanwhile) and
   * prepares the fresh spare synchronously.
   */
  fillNowSync(): void {
    this.fillWorker();
    if (this.ready.length > 0) return;
    zeroFillSync(fs, this.path, this.size, ZERO_CHUNK_BYTES, true);
    this.ready.push({ path: this.path, map: null });
  }

  /** True when a spare file can be taken. */
  get available(): boolean {
    return this.ready.length > 0;
  }

  get error(): Error | null {
    return this.lastError;
  }

  /** Spares ready or being filled (recycled ones included). */
  private get count(): number {
    return this.ready.length + this.filling.size;
  }

  /** Takes a spare (the caller renames it), a recycled one first; starts preparing the next. */
  take(): Spare {
    const i = this.ready.findIndex((s) => s.map !== null);
    const [spare] = this.ready.splice(i < 0 ? 0 : i, 1);
    if (spare === undefined) throw new Error('no spare segment is ready');
    return spare;
  }

  /** Starts preparing a fresh spare if none is ready or being prepared. */
  ensure(): void {
    if (this.count > 0 || this.closed) return;
    this.fill({ path: this.path, map: null }, true);
  }

  /**
   * Offers a shipped segment's file and mapping for reuse. False when `maxRecycled` spares are
   * already kept (the caller deletes the file); else the file is renamed and zero-filled again.
   */
  recycle(path: string, map: Buffer, seq: number): boolean {
    if (this.closed || map.length !== this.size || this.recycledCount() >= this.maxRecycled) return false;
    const spare: Spare = { path: join(this.dir, `spare-${seq}.tmp`), map };
    try {
      fs.renameSync(path, spare.path);
    } catch {
      return false;
    }
    this.fill(spare, false);
    return true;
  }

  /** Recycled spares kept (ready or being filled). */
  private recycledCount(): number {
    let n = 0;
    for (const s of this.ready) if (s.map !== null) n++;
    for (const s of this.filling.values()) if (s.map !== null) n++;
    return n;
  }

  private fill(spare: Spare, create: boolean): void {
    const request: FillRequest = { id: this.nextId++, path: spare.path, size: this.size, chunk: ZERO_CHUNK_BYTES, create };
    this.filling.set(request.id, spare);
    this.fillWorker().postMessage(request);
  }

  private filled(m: FillResult): void {
    const spare = this.filling.get(m.id);
    if (spare === undefined) return;
    this.filling.delete(m.id);
    if (this.closed) return;
    if (m.ok) {
      this.lastError = null;
      this.ready.push(spare);
      return;
    }
    const err: NodeJS.ErrnoException = new Error(m.message);
    if (m.code !== null) err.code = m.code;
    this.lastError = err;
  }

  private fillWorker(): Worker {
    if (this.worker !== null) return this.worker;
    // No inherited flags or loader hooks: the program is plain JavaScript and needs none.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.on('message', (m: FillResult) => this.filled(m));
    worker.on('error', (e) => {
      this.lastError = e;
      this.worker = null;
      for (const spare of this.filling.values()) fs.rmSync(spare.path, { force: true });
      this.filling.clear();
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Stops preparing spares and deletes them; resolves once the worker is gone. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
    for (const s of [...this.ready, ...this.filling.values()]) fs.rmSync(s.path, { force: true });
    this.ready.length = 0;
    this.filling.clear();
  }
}
