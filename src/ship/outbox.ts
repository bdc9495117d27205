/**
 * Where the shipper builds a segment's files: one slot per segment in progress, each a file
 * preallocated at start (zeros written, synced) to the most a segment's files can take. A slot
 * is written in place, never grown, so shipping needs no free space on the WAL volume to make
 * progress: a disk that filled while S3 was down drains by itself once S3 returns (every shipped
 * segment frees its space). Without a reservation (replay, or no room at start) slots are plain
 * files.
 */
import { strict as assert } from 'node:assert';
import { closeSync, existsSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type FilePlacer, HashingFile } from './segment-files';

/** lzop's uncompressed block size (src/lzo): each block adds a 12-byte header at most. */
const LZOP_BLOCK_BYTES = 245_693;

/**
 * The most the files of one segment of `segmentBytes` can take: its records stored (LZO keeps
 * incompressible blocks uncompressed; elephant-bird's framing per record is smaller than the
 * WAL's 9 bytes), a third more for gzip's base64 lines, block headers, the index and containers.
 */
export function slotBytes(segmentBytes: number): number {
  const blocks = Math.ceil(segmentBytes / LZOP_BLOCK_BYTES);
  return Math.ceil(segmentBytes * 4 / 3) + blocks * (12 + 8) + 1024 * 1024;
}

const ZEROS = Buffer.alloc(1024 * 1024);

/** One segment's files, written one after another into the slot's file. */
class SlotPlacer implements FilePlacer {
  private position = 0;

  constructor(private readonly path: string, private readonly fd: number, private readonly capacity: number) {}

  open(): HashingFile {
    const start = this.position;
    return new HashingFile(this.path, this.fd, start, this.capacity - start, (bytes) => { this.position = start + bytes; });
  }
}

export interface Slot {
  readonly index: number;
  readonly placer: FilePlacer;
}

export class Outbox {
  private readonly free: number[] = [];
  private readonly fds: number[] = [];
  /** Bytes reserved per slot; 0 when slots are plain files. */
  readonly reservedBytes: number;

  /**
   * Reserves `slots` files of `bytesPerSlot` in `dir` (kept across restarts: written again only
   * when missing or short). `bytesPerSlot` 0: no reservation.
   */
  constructor(private readonly dir: string, readonly slots: number, bytesPerSlot: number) {
    assert(Number.isInteger(slots) && slots >= 1, 'at least one outbox slot');
    mkdirSync(dir, { recursive: true });
    // Files of an earlier layout (a directory per segment) are scratch: gone.
    for (const name of readdirSync(dir)) if (!/^slot-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
    for (let i = 0; i < slots; i++) {
      const path = this.slotPath(i);
      const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
      this.fds.push(fd);
      if (bytesPerSlot > 0) reserve(fd, bytesPerSlot);
      this.free.push(i);
    }
    this.reservedBytes = bytesPerSlot;
  }

  private slotPath(i: number): string {
    return join(this.dir, `slot-${i}`);
  }

  /** A free slot (one per segment being built); null when all are taken. */
  acquire(): Slot | null {
    const index = this.free.shift();
    if (index === undefined) return null;
    const capacity = this.reservedBytes > 0 ? this.reservedBytes : Number.POSITIVE_INFINITY;
    return { index, placer: new SlotPlacer(this.slotPath(index), this.fds[index]!, capacity) };
  }

  release(slot: Slot): void {
    assert(!this.free.includes(slot.index), `outbox slot ${slot.index} released twice`);
    this.free.push(slot.index);
  }

  close(): void {
    for (const fd of this.fds) closeSync(fd);
    this.fds.length = 0;
  }
}

/** Writes zeros up to `bytes` where the file is shorter, and syncs: the blocks are then allocated. */
function reserve(fd: number, bytes: number): void {
  const have = fstatSync(fd).size;
  for (let pos = have; pos < bytes; pos += ZEROS.length) writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, bytes - pos), pos);
  if (have < bytes) fdatasyncSync(fd);
}
