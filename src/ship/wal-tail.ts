/**
 * Reads the WAL behind its writer for the stream sink: the sealed segments in order, then the open
 * one up to the bytes the last sync made durable (never further: past that mark the file holds
 * frames still being written, or a recycled file's old frames). Every frame's CRC is checked. Each
 * read returns records of one kind (good or bad, as they go to different streams) within the
 * batch limits, and says where it ends, so the caller can checkpoint after confirming it.
 */
import { crc32c } from '@node-rs/crc32';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, FrameKind, HEADER_BYTES } from '../wal/segment-format';
import { SegmentFileReader } from '../wal/segment-scanner';
import { segmentFileName } from '../wal/wal-files';
import type { WalPosition } from './stream-checkpoint';

export type RecordKind = FrameKind.Good | FrameKind.Bad;

export interface TailRead {
  kind: RecordKind;
  /** Payload copies, in WAL order. */
  records: Buffer[];
  /** Where the read began and ended. */
  start: WalPosition;
  end: WalPosition;
  /** The read ends its segment (sealed, read to the footer): once confirmed it can be released. */
  segmentDone: boolean;
}

export interface TailLimits {
  records: number;
  /** Payload bytes at most (a single larger record is read alone). */
  bytes: number;
}

/** A frame the tail cannot read: the durable part of a segment is damaged. */
export class TailCorruption extends Error {}

interface Current {
  seq: number;
  offset: number;
  /** Bytes of the segment that may be read: its durable bytes, or its length once sealed. */
  limit: number;
  sealed: boolean;
  fd: number | null;
  reader: SegmentFileReader | null;
  /** The limit when the reader's buffer was last filled: what it holds before it is valid. */
  readLimit: number;
}

export class WalTail {
  /** Sealed segments not yet reached, by sequence number: their length. */
  private readonly sealedAhead = new Map<number, number>();
  private openSeq = -1;
  private openDurable = 0;
  private cur: Current | null = null;
  private waitingFrom: number;

  /**
   * `start`: where to begin (a checkpoint), or null for the first segment known. Segments before
   * it that are known are reported by `skipped` at the first read (already in the stream).
   */
  constructor(private readonly dir: string, private readonly chunkBytes: number, private start: WalPosition | null) {
    this.waitingFrom = start?.seq ?? -1;
  }

  /** A segment sealed: `bytes` is its final length. */
  addSealed(seq: number, bytes: number): void {
    if (this.cur !== null && seq === this.cur.seq) {
      this.cur.limit = bytes;
      this.cur.sealed = true;
      this.closeReader();
      return;
    }
    if (this.cur !== null && seq < this.cur.seq) return;
    this.sealedAhead.set(seq, bytes);
  }

  /** The open segment and the bytes of it on disk (after a sync). */
  setOpen(seq: number, durableBytes: number): void {
    if (seq < this.openSeq || (seq === this.openSeq && durableBytes <= this.openDurable)) return;
    this.openSeq = seq;
    this.openDurable = durableBytes;
    if (this.cur !== null && this.cur.seq === seq && !this.cur.sealed) this.cur.limit = durableBytes;
  }

  /** Durable bytes not read yet (the sink's lag in bytes, framing included). */
  unreadBytes(): number {
    let n = 0;
    // Segments from `next` on are not reached yet.
    const next = this.cur === null ? this.waitingFrom : this.cur.seq + 1;
    if (this.cur !== null) n += Math.max(0, this.cur.limit - this.cur.offset);
    for (const [seq, bytes] of this.sealedAhead) if (seq >= next) n += bytes - HEADER_BYTES;
    if (this.openSeq >= next && !this.sealedAhead.has(this.openSeq)) n += Math.max(0, this.openDurable - HEADER_BYTES);
    return n;
  }

  /** The position the next read starts from (null before the first segment is known). */
  position(): WalPosition | null {
    return this.cur === null ? this.start : { seq: this.cur.seq, offset: this.cur.offset };
  }

  /**
   * Known segments before the start position (sealed): in the stream already. Returned once, at
   * the first call, so the caller can release them.
   */
  takeSkipped(): number[] {
    if (this.start === null) return [];
    const from = this.start.seq;
    const out = [...this.sealedAhead.keys()].filter((s) => s < from).sort((a, b) => a - b);
    for (const s of out) this.sealedAhead.delete(s);
    return out;
  }

  /** The next records within `limits`, or null when nothing durable is unread. */
  read(limits: TailLimits): TailRead | null {
    const cur = this.current();
    if (cur === null) return null;
    if (cur.offset >= cur.limit) {
      if (!cur.sealed) return null;
      // Sealed and read up to its end (a footer seen earlier would have ended it too).
      return this.finish(cur, null, [], { seq: cur.seq, offset: cur.offset });
    }
    const start = { seq: cur.seq, offset: cur.offset };
    const reader = this.readerOf(cur);
    // What the buffer read past the durable end may have changed since; what it read before it has not.
    reader.keepBefore(cur.readLimit);
    cur.readLimit = cur.limit;
    const records: Buffer[] = [];
    let kind: RecordKind | null = null;
    let bytes = 0;
    while (cur.offset < cur.limit && records.length < limits.records) {
      if (cur.offset + FRAME_HEADER_BYTES > cur.limit) throw new TailCorruption(`segment ${cur.seq}: frame header at ${cur.offset} crosses the durable end ${cur.limit}`);
      const head = reader.at(cur.offset, FRAME_HEADER_BYTES);
      const len = head.readUInt32LE(4);
      const frameKind = head[8]!;
      const end = cur.offset + FRAME_HEADER_BYTES + len;
      if (len === 0 || end > cur.limit) throw new TailCorruption(`segment ${cur.seq}: frame at ${cur.offset} (length ${len}) does not end within ${cur.limit}`);
      if (frameKind === FrameKind.Footer) {
        cur.offset = cur.limit;
        if (!cur.sealed) return records.length === 0 ? null : { kind: kind!, records, start, end: { seq: cur.seq, offset: cur.offset }, segmentDone: false };
        return this.finish(cur, kind, records, start);
      }
      if (frameKind === FrameKind.Good || frameKind === FrameKind.Bad) {
        if (kind !== null && frameKind !== kind) break;
        if (records.length > 0 && bytes + len > limits.bytes) break;
      }
      const frame = reader.at(cur.offset, FRAME_HEADER_BYTES + len);
      if (crc32c(frame.subarray(4)) !== frame.readUInt32LE(0)) throw new TailCorruption(`segment ${cur.seq}: CRC mismatch in the frame at ${cur.offset}`);
      cur.offset = end;
      if (frameKind === FrameKind.Void) continue;
      if (frameKind !== FrameKind.Good && frameKind !== FrameKind.Bad) throw new TailCorruption(`segment ${cur.seq}: unknown frame kind ${frameKind} at ${cur.offset}`);
      kind = frameKind;
      records.push(Buffer.from(frame.subarray(FRAME_HEADER_BYTES)));
      bytes += len;
    }
    if (cur.sealed && cur.offset >= cur.limit) return this.finish(cur, kind, records, start);
    if (records.length === 0) return null;
    return { kind: kind!, records, start, end: { seq: cur.seq, offset: cur.offset }, segmentDone: false };
  }

  /** Ends the current segment: the next read starts at the next one known. */
  private finish(cur: Current, kind: RecordKind | null, records: Buffer[], start: WalPosition): TailRead {
    this.closeReader();
    this.cur = null;
    this.waitingFrom = cur.seq + 1;
    this.start = { seq: cur.seq + 1, offset: HEADER_BYTES };
    return { kind: kind ?? FrameKind.Good, records, start, end: { seq: cur.seq, offset: cur.limit }, segmentDone: true };
  }

  /** The segment being read, or the first known one from where reading stands. */
  private current(): Current | null {
    if (this.cur !== null) return this.cur;
    const candidates = [...this.sealedAhead.keys()].filter((s) => s >= this.waitingFrom);
    if (this.openSeq >= 0 && this.openSeq >= this.waitingFrom) candidates.push(this.openSeq);
    if (candidates.length === 0) return null;
    const seq = Math.min(...candidates);
    const sealedBytes = this.sealedAhead.get(seq);
    this.sealedAhead.delete(seq);
    const offset = this.start !== null && this.start.seq === seq ? Math.max(HEADER_BYTES, this.start.offset) : HEADER_BYTES;
    this.cur = sealedBytes !== undefined
      ? { seq, offset, limit: sealedBytes, sealed: true, fd: null, reader: null, readLimit: 0 }
      : { seq, offset, limit: this.openDurable, sealed: false, fd: null, reader: null, readLimit: 0 };
    return this.cur;
  }

  private readerOf(cur: Current): SegmentFileReader {
    if (cur.reader === null) {
      cur.fd = openSync(join(this.dir, segmentFileName(cur.seq)), 'r');
      cur.reader = new SegmentFileReader(cur.fd, this.chunkBytes);
    }
    return cur.reader;
  }

  private closeReader(): void {
    const cur = this.cur;
    if (cur === null || cur.fd === null) return;
    closeSync(cur.fd);
    cur.fd = null;
    cur.reader = null;
  }

  close(): void {
    this.closeReader();
  }
}
