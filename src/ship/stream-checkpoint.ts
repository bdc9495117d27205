/**
 * The stream sink's durable position in the WAL (wal-files: stream.checkpoint): the segment and
 * byte offset up to which every record is confirmed in the stream. Written after each confirmed
 * batch, and synced before anything relies on it (a segment's release). Two slots 4 KiB apart
 * take the writes in turn, each with a generation and a CRC, so a torn write leaves the other
 * slot readable. A second file (stream.sent) holds the furthest position handed to the stream, not
 * synced: after a restart, what lies between the two is sent again and counted as possible
 * duplicates. It is a file of its own because a write to a file being fdatasynced waits for the
 * sync (the inode's lock), which held every dispatch for a millisecond.
 *
 *   slot (64 bytes): 0 magic "SLSTRCK1" | 8 generation u64 | 16 instance id (16 bytes)
 *                    | 32 segment u64 | 40 offset u64 | 48 reserved | 60 CRC32C of 0..59
 */
import { crc32c } from '@node-rs/crc32';
import { closeSync, fdatasync, openSync, readSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToUuid, uuidToBytes } from '../wal/segment-format';
import { STREAM_CHECKPOINT_FILE, STREAM_SENT_FILE } from '../wal/wal-files';

export interface WalPosition {
  seq: number;
  /** Byte offset in the segment of the next frame to send. */
  offset: number;
}

const MAGIC = Buffer.from('SLSTRCK1', 'latin1');
const SLOT_BYTES = 64;
const SLOT_STRIDE = 4096;
const CONFIRMED_SLOTS = [0, SLOT_STRIDE] as const;

interface Slot { generation: number; instanceId: string; pos: WalPosition }

function encodeSlot(s: Slot): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  MAGIC.copy(b, 0);
  b.writeBigUInt64LE(BigInt(s.generation), 8);
  uuidToBytes(s.instanceId).copy(b, 16);
  b.writeBigUInt64LE(BigInt(s.pos.seq), 32);
  b.writeBigUInt64LE(BigInt(s.pos.offset), 40);
  b.writeUInt32LE(crc32c(b.subarray(0, 60)), 60);
  return b;
}

function decodeSlot(b: Buffer): Slot | null {
  if (b.length < SLOT_BYTES || !b.subarray(0, 8).equals(MAGIC)) return null;
  if (crc32c(b.subarray(0, 60)) !== b.readUInt32LE(60)) return null;
  return {
    generation: Number(b.readBigUInt64LE(8)),
    instanceId: bytesToUuid(b.subarray(16, 32)),
    pos: { seq: Number(b.readBigUInt64LE(32)), offset: Number(b.readBigUInt64LE(40)) },
  };
}

/** Orders positions in the WAL: negative when `a` comes first. */
export function comparePositions(a: WalPosition, b: WalPosition): number {
  return a.seq !== b.seq ? a.seq - b.seq : a.offset - b.offset;
}

export class StreamCheckpoint {
  private generation: number;
  private confirmedPos: WalPosition | null;
  private readonly sentPos: WalPosition | null;
  /** Why the file's content was not used (another WAL's, unreadable): null when it was, or absent. */
  readonly discarded: string | null;
  private writing = false;
  private furthestSent: WalPosition | null;

  private constructor(private readonly fd: number, private readonly sentFd: number, private readonly instanceId: string, found: { confirmed: Slot | null; sent: Slot | null }, discarded: string | null) {
    this.generation = found.confirmed?.generation ?? 0;
    this.confirmedPos = found.confirmed?.pos ?? null;
    this.sentPos = found.sent?.pos ?? null;
    this.furthestSent = this.sentPos;
    this.discarded = discarded;
  }

  /** The checkpoint of the WAL in `walDir` (its files, wal-files.ts), opened or created. */
  static inWal(walDir: string, instanceId: string): StreamCheckpoint {
    return StreamCheckpoint.open(join(walDir, STREAM_CHECKPOINT_FILE), join(walDir, STREAM_SENT_FILE), instanceId);
  }

  /** Opens (or creates) a checkpoint from its two files. */
  static open(path: string, sentPath: string, instanceId: string): StreamCheckpoint {
    const openRw = (p: string): number => {
      closeSync(openSync(p, 'a'));
      return openSync(p, 'r+');
    };
    const rw = openRw(path);
    const sentFd = openRw(sentPath);
    const read = (fd: number, at: number): Slot | null => {
      const b = Buffer.alloc(SLOT_BYTES);
      return readSync(fd, b, 0, SLOT_BYTES, at) === SLOT_BYTES ? decodeSlot(b) : null;
    };
    const slots = CONFIRMED_SLOTS.map((at) => read(rw, at)).filter((s): s is Slot => s !== null);
    let confirmed: Slot | null = slots.sort((a, b) => b.generation - a.generation)[0] ?? null;
    let sent: Slot | null = read(sentFd, 0);
    let discarded: string | null = null;
    if (confirmed !== null && confirmed.instanceId !== instanceId) {
      discarded = `the checkpoint is WAL ${confirmed.instanceId}'s, this WAL is ${instanceId}`;
      confirmed = null;
      sent = null;
    }
    if (sent !== null && (sent.instanceId !== instanceId || (confirmed !== null && comparePositions(sent.pos, confirmed.pos) < 0))) sent = null;
    return new StreamCheckpoint(rw, sentFd, instanceId, { confirmed, sent }, discarded);
  }

  /** Where the last synced checkpoint stands: every record before it is in the stream. Null: none yet. */
  get confirmed(): WalPosition | null {
    return this.confirmedPos;
  }

  /** The furthest position handed to the stream by the previous run (null: none past `confirmed`). */
  get sentBefore(): WalPosition | null {
    return this.sentPos;
  }

  /** A write is running: the caller waits for it before the next (one at a time). */
  get busy(): boolean {
    return this.writing;
  }

  /** Writes and syncs `pos` into the older slot; resolves once it is on disk. */
  commit(pos: WalPosition): Promise<void> {
    if (this.writing) return Promise.reject(new Error('a checkpoint write is already running'));
    if (this.confirmedPos !== null && comparePositions(pos, this.confirmedPos) < 0) {
      return Promise.reject(new Error(`checkpoint going back from ${this.confirmedPos.seq}:${this.confirmedPos.offset} to ${pos.seq}:${pos.offset}`));
    }
    this.writing = true;
    const generation = this.generation + 1;
    const at = CONFIRMED_SLOTS[generation % 2]!;
    const bytes = encodeSlot({ generation, instanceId: this.instanceId, pos });
    return new Promise<void>((resolve, reject) => {
      write(this.fd, bytes, 0, bytes.length, at, (err) => {
        if (err !== null) { this.writing = false; reject(err); return; }
        fdatasync(this.fd, (e) => {
          this.writing = false;
          if (e !== null) { reject(e); return; }
          this.generation = generation;
          this.confirmedPos = pos;
          resolve();
        });
      });
    });
  }

  /**
   * Notes the furthest position handed to the stream, before the call goes out: written to the
   * page cache at once (it survives a crash of the process, not of the machine), never synced, as
   * it only sizes the possible duplicates.
   */
  markSent(pos: WalPosition): void {
    // Never back: a restart resends from the checkpoint, and a kill during the resend must not
    // forget how far the run before it had got.
    if (this.furthestSent !== null && comparePositions(pos, this.furthestSent) <= 0) return;
    this.furthestSent = pos;
    writeSync(this.sentFd, encodeSlot({ generation: 0, instanceId: this.instanceId, pos }), 0, SLOT_BYTES, 0);
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.sentFd);
  }
}
