/**
 * Keeps synced spare files of the segment size ready (wal.spareSegments, written at start), their
 * blocks written, so rolling to a new segment never waits for disk allocation, and writing into
 * the mapping can never hit an unallocated block (SIGBUS on a full disk). ENOSPC is reported, not
 * thrown. Later spares are shipped segments' files where possible (see freshSpareDue).
 *
 * A spare is ready under its final name (`segment-<seq>.seg`, the next sequence number claimed
 * from the WAL) with its header written and the directory synced, so a roll renames nothing. An
 * unused spare is a segment without records: recovery removes it.
 *
 * Shipped segments are recycled (at most `maxRecycled` spares at once): only the part cut off
 * when it was sealed is written again (a full segment: almost nothing), and its old frames stay
 * behind the new header's end marker, where no scan reads; the file keeps the memory mapping it
 * had, so a roll maps nothing. A spare is zero-filled only when new. Each new 64 MiB mapping
 * counts as V8 external memory and started a full mark-compact (with the event loop
 * stopped) at every roll; a recycled spare avoids that and the mmap call itself.
 *
 * Spares are written by a small worker thread of its own, so the thousands of writes a spare
 * takes cost the event loop nothing, at the pace the WAL sets (spareFillPace): their zeros reach
 * the device in small steps between the WAL's own syncs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type PrepareRequest, prepareSpareSync } from './spare-file';
import { FILL_SYNC_BYTES, freshSpareDue, ZERO_CHUNK_BYTES } from './spare-pacing';
import type { FillRequest, FillResult, SpareWorkerData } from './spare-worker';
import { FRAME_HEADER_BYTES, HEADER_BYTES, type SegmentHeader, writeHeader } from './segment-format';
import { FRESH_SPARE, recycledSpareName, segmentFileName } from './wal-files';
import { mapSegmentFile } from './segment-writer';

/**
 * A spare segment: its blocks written, its header and end marker too, named and synced once
 * ready. `map` is its mapping: a recycled spare keeps the one it had; the spares made at start are
 * mapped then.
 */
export interface Spare {
  /** The segment's file once ready. */
  path: string;
  /** The segment it becomes (its header says so). */
  header: SegmentHeader;
  map: Buffer | null;
  /** A shipped segment's file prepared again (these are bounded by `maxRecycled`). */
  recycled: boolean;
}

/** A spare being prepared: written at `tmpPath`, renamed to `spare.path` when ready. */
interface Filling {
  spare: Spare;
  tmpPath: string;
}

/** Hands out the next segment's header (sequence number claimed, creation time now). */
export type ClaimSegment = () => SegmentHeader;

export class Preallocator {
  /** Ready spares in the order of their sequence numbers, which is the order they are used in. */
  private readonly ready: Spare[] = [];
  /** Fills sent to the worker and not answered yet, by request id (answered in request order). */
  private readonly filling = new Map<number, Filling>();
  private nextId = 1;
  private createdCount = 0;
  private lastError: Error | null = null;
  private closed = false;
  private worker: Worker | null = null;
  /** The pace of spare writing (KiB/s, 0: none), shared with the worker thread. */
  private readonly paceBuffer = new SharedArrayBuffer(4);
  private readonly pace = new Int32Array(this.paceBuffer);

  constructor(
    private readonly dir: string,
    private readonly size: number,
    /** Spares wanted ready (recycled ones count): fresh ones are written up to this many. */
    private readonly wanted: number,
    private readonly maxRecycled: number,
    private readonly claim: ClaimSegment,
  ) {
    assert(Number.isInteger(wanted) && wanted >= 1, 'at least one spare is wanted');
  }

  /**
   * At start, before anything is served: starts the worker thread (it boots meanwhile) and
   * prepares a fresh spare synchronously, mapped already: mapping takes milliseconds, and a new mapping
   * (V8 external memory) starts a garbage collection, which the first roll then does not pay.
   */
  fillNowSync(): void {
    this.fillWorker();
    // Nothing is served yet, so no sync waits behind this one: one sync at the end.
    const { spare, request } = this.request(join(this.dir, FRESH_SPARE), null, true, Number.POSITIVE_INFINITY);
    this.createdCount++;
    prepareSpareSync(fs, request, null);
    const fd = fs.openSync(spare.path, 'r+');
    try {
      spare.map = mapSegmentFile(fd, this.size);
    } finally {
      fs.closeSync(fd);
    }
    this.ready.push(spare);
  }

  /** New spare files started (the whole segment size written), at start and since. */
  get created(): number {
    return this.createdCount;
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

  /** Takes the ready spare with the lowest sequence number. */
  take(): Spare {
    const spare = this.ready.shift();
    if (spare === undefined) throw new Error('no spare segment is ready');
    return spare;
  }

  /** Sets the pace of spare writing (KiB/s, 0: as fast as the disk goes); a fill under way follows it. */
  setPace(kibPerSecond: number): void {
    const kib = Math.max(0, Math.min(0x7fffffff, Math.round(kibPerSecond)));
    if (Atomics.exchange(this.pace, 0, kib) !== kib) Atomics.notify(this.pace, 0);
  }

  /**
   * Starts preparing a fresh spare when fewer than the spares wanted are ready or being prepared,
   * none is being prepared (one file at a time), and freshSpareDue says so: while the spares ready
   * cover the next roll, a segment awaiting shipping (`sealedAwaitingShipping`) is waited for,
   * unless recycling is off.
   */
  ensure(sealedAwaitingShipping: boolean): void {
    if (this.closed || this.count >= this.wanted || this.filling.size > 0) return;
    const recycledExpected = sealedAwaitingShipping && this.maxRecycled > 0;
    if (!freshSpareDue({ recycledExpected, sparesReady: this.ready.length })) return;
    this.fill(join(this.dir, FRESH_SPARE), null, true);
  }

  /**
   * Offers a shipped segment's file and mapping for reuse. False when `maxRecycled` spares are
   * already kept (the caller deletes the file); else the file is renamed and prepared again.
   */
  recycle(path: string, map: Buffer, seq: number): boolean {
    if (this.closed || map.length !== this.size || this.recycledCount() >= this.maxRecycled) return false;
    const tmpPath = join(this.dir, recycledSpareName(seq));
    try {
      fs.renameSync(path, tmpPath);
    } catch {
      return false;
    }
    this.fill(tmpPath, map, false);
    return true;
  }

  /** Recycled spares kept (ready or being filled). */
  private recycledCount(): number {
    let n = 0;
    for (const s of this.ready) if (s.recycled) n++;
    for (const f of this.filling.values()) if (f.spare.recycled) n++;
    return n;
  }

  /** Claims the next segment for a spare written at `tmpPath`. */
  private request(tmpPath: string, map: Buffer | null, create: boolean, syncEvery: number): { spare: Spare; request: PrepareRequest } {
    const header = this.claim();
    assert(header.capacity === this.size, 'a spare is as large as the segments');
    // The header, then the end marker of an empty segment (zeros, as Buffer.alloc leaves them).
    const headerBytes = Buffer.alloc(HEADER_BYTES + FRAME_HEADER_BYTES);
    writeHeader(headerBytes, header);
    const spare: Spare = { path: join(this.dir, segmentFileName(header.seq)), header, map, recycled: map !== null };
    return {
      spare,
      request: { path: tmpPath, finalPath: spare.path, dir: this.dir, size: this.size, chunk: ZERO_CHUNK_BYTES, syncEvery, create, header: headerBytes },
    };
  }

  private fill(tmpPath: string, map: Buffer | null, create: boolean): void {
    const { spare, request } = this.request(tmpPath, map, create, FILL_SYNC_BYTES);
    if (create) this.createdCount++;
    const id = this.nextId++;
    this.filling.set(id, { spare, tmpPath });
    const message: FillRequest = { ...request, id };
    this.fillWorker().postMessage(message);
  }

  private filled(m: FillResult): void {
    const f = this.filling.get(m.id);
    if (f === undefined) return;
    this.filling.delete(m.id);
    if (this.closed) return;
    if (m.ok) {
      this.lastError = null;
      this.ready.push(f.spare);
      return;
    }
    const err: NodeJS.ErrnoException = new Error(m.message);
    if (m.code !== null) err.code = m.code;
    this.lastError = err;
  }

  private fillWorker(): Worker {
    if (this.worker !== null) return this.worker;
    // The compiled worker beside this module. Run from the TypeScript sources (the unit tests), the
    // build's copy: a worker thread would otherwise boot a TypeScript loader before its first spare.
    const data: SpareWorkerData = { pace: this.paceBuffer };
    const file = extname(__filename) === '.js' ? join(__dirname, 'spare-worker.js') : join(__dirname, '..', '..', 'dist', 'wal', 'spare-worker.js');
    const worker = new Worker(file, { execArgv: [], workerData: data });
    worker.on('message', (m: FillResult) => this.filled(m));
    worker.on('error', (e) => {
      this.lastError = e;
      this.worker = null;
      for (const f of this.filling.values()) removeFilling(f);
      this.filling.clear();
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /**
   * Stops preparing spares and deletes them (the caller syncs the directory); resolves once the
   * worker is gone.
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    // A paced fill may be waiting: wake it, so the termination is not held by the wait.
    this.setPace(0);
    if (worker !== null) await worker.terminate();
    for (const s of this.ready) fs.rmSync(s.path, { force: true });
    for (const f of this.filling.values()) removeFilling(f);
    this.ready.length = 0;
    this.filling.clear();
  }
}

/** A spare whose preparation was cut short can be under either of its names. */
function removeFilling(f: Filling): void {
  fs.rmSync(f.tmpPath, { force: true });
  fs.rmSync(f.spare.path, { force: true });
}
