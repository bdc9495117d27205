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
 * counts as V8 external memory and started a full mark-compact (4-10 ms with the event loop
 * stopped) at every roll; a recycled spare avoids that and the mmap call itself.
 *
 * Spares are written by a small worker thread of its own, so the thousands of writes a spare
 * takes cost the event loop nothing, at the pace the WAL sets (spareFillPace): their zeros reach
 * the device in small steps between the WAL's own syncs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FRAME_HEADER_BYTES, HEADER_BYTES, type SegmentHeader, writeHeader } from './segment-format';
import { FRESH_SPARE, recycledSpareName, segmentFileName } from './wal-files';
import { mapSegmentFile } from './segment-writer';

/**
 * Zeros go out 4 KiB (a page) per write on purpose. The page cache sizes its folios after the
 * write that creates them: larger writes leave larger folios, and then every write fault into the
 * mapping dirties (and every fdatasync writes back) the whole folio. Measured here with 1.5 KB
 * records (bench/folio-probe.js), KiB sent to the disk per sync:
 *
 *   records per sync   1 MiB chunks   16 KiB chunks   4 KiB chunks   (data)
 *   1                  -              17.4            5.5            1.5
 *   4                  -              21.8            9.8            5.9
 *   32                 1,069          62.7            50.8           46.9
 *
 * Small groups are the common case below saturation: at 5k requests/s (a sync per 1-2 records)
 * the collector sent 690-784 MiB to the disk per 10 s with 16 KiB chunks and 303-322 MiB with
 * 4 KiB (5.5 MB/s of records), with a lower sync p99 (0.44-0.63 ms against 0.52-0.69). The
 * price is more write faults: 1.19 against 0.89 us per record in groups of 32.
 */
export const ZERO_CHUNK_BYTES = 4 * 1024;

/**
 * A spare is synced every 256 KiB while it is written, not once at the end, and the writing is
 * paced (see spareFillPace). A single sync at the end wrote 64 MiB back at once, and the WAL's own
 * fdatasyncs queued behind it on the device: at 10k requests/s, the sync that met it took
 * 25-32 ms (acks held as long). Unpaced with a sync per MiB, a spare took ~130 ms, and at 5k
 * requests/s the acks of those 130 ms came 2-7 ms late: 600 of 50,000 requests, the whole p99.
 */
export const FILL_SYNC_BYTES = 256 * 1024;

/** The slowest a spare is written (KiB/s): 64 MiB in 4 s, whatever the load. */
export const FILL_PACE_FLOOR_KIB = 16 * 1024;
/** A spare is written this many times faster than records are appended. */
export const FILL_PACE_FACTOR = 4;

/** What the pace of the spare being written depends on. */
export interface FillPaceInputs {
  /** Bytes appended to the WAL per second, lately. */
  appendBytesPerSecond: number;
  /** A spare is ready for the next roll. */
  spareReady: boolean;
  /** How far the open segment is to its roll, 0..1: the larger of its fill and its age. */
  openSegmentProgress: number;
}

/**
 * The pace (KiB/s) for writing spares: FILL_PACE_FACTOR times the append rate, at least
 * FILL_PACE_FLOOR_KIB, so the zeros reach the device in small steps between the WAL's own syncs
 * rather than in one burst that holds them. 0 (no limit) when no spare is ready and the open
 * segment is past half way to its roll: a roll must never wait for its spare.
 */
export function spareFillPace(p: FillPaceInputs): number {
  if (!p.spareReady && p.openSegmentProgress >= 0.5) return 0;
  return Math.max(FILL_PACE_FLOOR_KIB, Math.ceil((FILL_PACE_FACTOR * p.appendBytesPerSecond) / 1024));
}

/** What decides whether a new spare file is written now or a shipped one is waited for. */
export interface FreshSpareInputs {
  /** A segment sealed by this process awaits shipping: its file comes back as a spare. */
  recycledExpected: boolean;
  /** Spares ready for the next rolls. */
  sparesReady: number;
}

/**
 * True when a new spare file should be written now (fewer than the spares wanted are ready or
 * being prepared): when no shipped segment's file is expected back, or when no spare is ready.
 * While one is, the next roll is covered and a shipped file is awaited instead: a new spare
 * writes the whole segment size, and those writes meet the WAL's syncs on the device (traced at
 * 5k requests/s: the 2.4 s a new spare took after the first roll held 131 WAL syncs for 2-10 ms
 * each, against a sync p99 of 0.5 ms), while a shipped file comes back for its header's cost.
 */
export function freshSpareDue(p: FreshSpareInputs): boolean {
  return !p.recycledExpected || p.sparesReady === 0;
}

/** One spare to prepare: where it is written, the name and header it is given when ready. */
interface PrepareRequest {
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
 * recycled file was truncated in an old one. Then the segment header and the end marker after
 * it, a sync, the rename to its segment name and a sync of the directory. A roll then only starts
 * writing into a file whose name is already durable, so the first acknowledgement after a roll
 * waits for no directory sync (that sync commits the file system journal: 15-40 ms measured here
 * under load).
 * Self-contained (it only uses its arguments): the worker thread runs its source text.
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

type FillRequest = PrepareRequest & { id: number };
type FillResult = { id: number; ok: true } | { id: number; ok: false; code: string | null; message: string };

/** The worker's program: prepare on request, answer once per request; a failure leaves no file. */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const prepareSpareSync = ${prepareSpareSync.toString()};
const pace = new Int32Array(workerData.pace);
parentPort.on('message', (m) => {
  try {
    prepareSpareSync(fs, m, pace);
    parentPort.postMessage({ id: m.id, ok: true });
  } catch (e) {
    try { fs.rmSync(m.path, { force: true }); fs.rmSync(m.finalPath, { force: true }); } catch {}
    parentPort.postMessage({ id: m.id, ok: false, code: typeof e.code === 'string' ? e.code : null, message: String(e.message) });
  }
});
`;

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
  private readonly pace = new Int32Array(new SharedArrayBuffer(4));

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
   * prepares a fresh spare synchronously, mapped already: mapping takes 3-8 ms, and a new mapping
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
    // No inherited flags or loader hooks: the program is plain JavaScript and needs none.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { pace: this.pace.buffer } });
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
