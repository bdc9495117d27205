/**
 * The open segment: a preallocated file mapped into memory (MAP_SHARED), appended to by copying
 * frames into the mapping. Durability comes from fdatasync on the file (GroupCommit): on Linux it
 * writes back the mapping's dirty pages, as msync would, without blocking the event loop.
 */
import mmap from '@riaskov/mmap-io';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import {
  FOOTER_FRAME_BYTES, FooterAccumulator, FRAME_HEADER_BYTES, FrameKind, footerPayload, HEADER_BYTES,
  type SegmentFooter, type SegmentHeader, writeEndMarker, writeFrame, writeHeader,
} from './segment-format';

/** Maps a segment file (MAP_SHARED, read and write), sequential access advised. */
export function mapSegmentFile(fd: number, capacity: number): Buffer {
  return mmap.map(capacity, 3 /* PROT_READ | PROT_WRITE */, mmap.MAP_SHARED, fd, 0, mmap.MADV_SEQUENTIAL);
}

export class SegmentWriter {
  readonly fd: number;
  private map: Buffer | null;
  private offset = HEADER_BYTES;
  private readonly acc = new FooterAccumulator();
  private sealedFooter: SegmentFooter | null = null;

  /** The mapping, kept after sealing for reuse (see detachMapping). */
  private sealedMap: Buffer | null = null;
  /** Bytes a running sync covers (taken when it started), and bytes known on disk. */
  private syncingBytes = HEADER_BYTES;
  private durable = HEADER_BYTES;
  /** Hears of the bytes on disk after each sync that covered this segment (a stream sink reads up to them). */
  onDurable: ((bytes: number) => void) | null = null;

  /**
   * Opens a preallocated file of `header.capacity` bytes (a spare: blocks allocated) and writes
   * the header and the end marker after it. `map`: the file's existing mapping (a recycled spare),
   * else the file is mapped now.
   */
  constructor(readonly path: string, readonly header: SegmentHeader, map: Buffer | null = null) {
    this.fd = openSync(path, 'r+');
    if (map !== null && map.length !== header.capacity) throw new Error(`mapping of ${map.length} bytes for a segment of ${header.capacity}`);
    this.map = map ?? mapSegmentFile(this.fd, header.capacity);
    writeHeader(this.map, header);
    writeEndMarker(this.map, HEADER_BYTES);
  }

  get seq(): number {
    return this.header.seq;
  }

  get records(): number {
    return this.acc.records;
  }

  /** Bytes used (header and frames). */
  get size(): number {
    return this.offset;
  }

  /** Bytes (header and whole frames) known to be on disk: what a completed sync covered. */
  get durableBytes(): number {
    return this.durable;
  }

  /** A sync takes this segment (GroupCommit): it covers every frame appended so far. */
  syncing(): void {
    this.syncingBytes = this.offset;
  }

  /** The sync taken by syncing() completed. */
  synced(): void {
    if (this.syncingBytes <= this.durable) return;
    this.durable = this.syncingBytes;
    this.onDurable?.(this.durable);
  }

  /**
   * Without syncs (wal.durability none), everything appended counts as durable at once: a
   * benchmark's stream sink still reads it.
   */
  markAllDurable(): void {
    this.syncingBytes = this.offset;
    this.synced();
  }

  get firstAppendMs(): number {
    return this.acc.firstMs;
  }

  get sealed(): boolean {
    return this.sealedFooter !== null;
  }

  /** True when a frame of `payloadBytes` still fits, leaving room for the footer. */
  fits(payloadBytes: number): boolean {
    return this.offset + FRAME_HEADER_BYTES + payloadBytes + FOOTER_FRAME_BYTES <= this.header.capacity;
  }

  /** Largest payload an empty segment of this capacity holds. */
  static maxPayload(capacity: number): number {
    return capacity - HEADER_BYTES - FRAME_HEADER_BYTES - FOOTER_FRAME_BYTES;
  }

  append(kind: FrameKind.Good | FrameKind.Bad, payload: Uint8Array, nowMs: number): void {
    const map = this.map;
    if (map === null || this.sealedFooter !== null) throw new Error(`segment ${this.header.seq} is sealed`);
    if (!this.fits(payload.length)) throw new Error(`segment ${this.header.seq}: record of ${payload.length} bytes does not fit`);
    const crc = writeFrame(map, this.offset, kind, payload);
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    this.offset += frameBytes;
    // fits() keeps room for the footer, so the marker fits too.
    writeEndMarker(map, this.offset);
    this.acc.add(crc, frameBytes, nowMs);
  }

  /**
   * Writes the footer and truncates the file after it. The caller must sync the file before it
   * counts as sealed on disk, and close() it afterwards.
   */
  seal(): SegmentFooter {
    const map = this.map;
    if (map === null) throw new Error(`segment ${this.header.seq} is closed`);
    if (this.sealedFooter !== null) return this.sealedFooter;
    const footer = this.acc.footer();
    writeFrame(map, this.offset, FrameKind.Footer, footerPayload(footer));
    this.offset += FOOTER_FRAME_BYTES;
    // Nothing touches the mapping past this point, so shrinking the file under it is safe. The
    // pages leave this process's RSS now rather than when the Buffer is collected (the data stays
    // in the page cache, dirty until synced).
    mmap.advise(map, mmap.MADV_DONTNEED);
    this.map = null;
    this.sealedMap = map;
    ftruncateSync(this.fd, this.offset);
    this.sealedFooter = footer;
    return footer;
  }

  /**
   * The sealed segment's mapping, for reuse once the file is a spare again; null before
   * sealing or when already taken. It must not be touched while the file is truncated.
   */
  detachMapping(): Buffer | null {
    const map = this.sealedMap;
    this.sealedMap = null;
    return map;
  }

  /** Closes the file; a mapping not detached is released when it is garbage collected. */
  close(): void {
    this.map = null;
    closeSync(this.fd);
  }
}
