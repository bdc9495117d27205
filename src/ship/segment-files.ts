/**
 * Turns one sealed WAL segment into the files to upload: good records as a splittable LZO file
 * (elephant-bird blocks of 100 records in an lzop container) with its .lzo.index, or as gzip with
 * one base64 record per line; bad rows as gzip JSON lines. Every CRC is checked while reading.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { strict as assert } from 'node:assert';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BlockBuilder, RECORDS_PER_BLOCK } from '../lzo/elephant-bird';
import { LzopWriter } from '../lzo/lzop-writer';
import { FrameKind, type SegmentFooter, type SegmentHeader } from '../wal/segment-format';
import { trailingFooter, walkSegment, withSegmentFile } from '../wal/segment-scanner';

export type ShipFormat = 'lzo' | 'gzip';

/** A built file to upload: `bytes` bytes at `offset` of the file at `path`. */
export interface LocalFile {
  path: string;
  /** Where the data starts in the file: 0, or its place in a reserved outbox slot. */
  offset: number;
  bytes: number;
  /** Hex MD5, the ETag of a single-part upload. */
  md5: string;
}

export interface OutputSet {
  /** Extension of the good file (lzo or gz). */
  ext: string;
  records: number;
  file: LocalFile;
  index: LocalFile | null;
}

export interface SegmentOutputs {
  header: SegmentHeader;
  footer: SegmentFooter;
  good: OutputSet | null;
  bad: OutputSet | null;
}

/** Where a segment's files are written: new files in a directory, or one reserved slot (outbox.ts). */
export interface FilePlacer {
  /** A new file for `name` (its name in a directory; a slot ignores it). */
  open(name: string): HashingFile;
}

/** Writes a file's bytes at a position of a descriptor, hashing them (MD5: the S3 ETag). */
export class HashingFile {
  private readonly hash: Hash = createHash('md5');
  bytes = 0;

  /** `onClose` hears the bytes written; it closes the descriptor when the file owns it. */
  constructor(readonly path: string, private readonly fd: number, readonly offset: number, private readonly limit: number, private readonly onClose: (bytes: number) => void) {}

  static create(path: string): HashingFile {
    const fd = openSync(path, 'w');
    return new HashingFile(path, fd, 0, Number.POSITIVE_INFINITY, () => closeSync(fd));
  }

  write(chunk: Buffer): void {
    // A reserved slot is written only within its preallocated blocks (see outbox.ts).
    assert(this.bytes + chunk.length <= this.limit, `${this.path}: ${this.bytes + chunk.length} bytes would pass the reserved ${this.limit}`);
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off, this.offset + this.bytes + off);
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /**
   * Not synced: these are scratch files, uploaded and deleted within seconds (the WAL keeps the
   * segment until S3 confirms it). A sync wrote each segment's LZO to the WAL's disk,
   * and the WAL's own fdatasyncs (the acknowledgements) queued behind it.
   */
  close(): LocalFile {
    this.onClose(this.bytes);
    return { path: this.path, offset: this.offset, bytes: this.bytes, md5: this.hash.digest('hex') };
  }
}

/** New files in a directory. */
export function directoryPlacer(dir: string): FilePlacer {
  return { open: (name) => HashingFile.create(join(dir, name)) };
}

function writeWhole(f: HashingFile, data: Buffer): LocalFile {
  f.write(data);
  return f.close();
}

/**
 * A splittable LZO file written record by record: elephant-bird blocks of 100 records in an lzop
 * container, then its .lzo.index beside it. A record is copied into the block being built when
 * added (the caller's buffer may be a reused chunk): memory is one block of records and one LZO
 * block, whatever the file's size.
 */
export class LzoFileWriter {
  private readonly out: HashingFile;
  private readonly lzop: LzopWriter;
  private readonly block = new BlockBuilder();

  /** Writes `path` and `path.index` (in a directory), or both into `placer`'s files. */
  constructor(readonly path: string, mtimeSeconds: number, private readonly placer: FilePlacer = directoryPlacer(dirname(path))) {
    this.out = placer.open(basename(path));
    this.lzop = new LzopWriter(this.out, mtimeSeconds);
  }

  add(record: Buffer): void {
    this.block.add(record);
    if (this.block.records === RECORDS_PER_BLOCK) this.lzop.write(this.block.take());
  }

  finish(): { file: LocalFile; index: LocalFile } {
    if (this.block.records > 0) this.lzop.write(this.block.take());
    this.lzop.finish();
    const file = this.out.close();
    return { file, index: writeWhole(this.placer.open(`${basename(this.path)}.index`), this.lzop.index()) };
  }

  /** Closes the file without finishing it (the caller removes it). */
  abort(): void {
    this.out.close();
  }
}

/** Writes records as LZO + index; returns the files. */
export function writeLzoFile(records: readonly Buffer[], path: string, mtimeSeconds: number): { file: LocalFile; index: LocalFile } {
  const w = new LzoFileWriter(path, mtimeSeconds);
  for (const r of records) w.add(r);
  return w.finish();
}

/**
 * The files of one segment, fed record by record: good records stream into the LZO file; gzip
 * output (and bad rows, which are rare) is compressed whole at the end from the lines kept.
 */
class SegmentOutputBuilder {
  private lzo: LzoFileWriter | null = null;
  private goodCount = 0;
  private readonly goodLines: string[] = [];
  private readonly badLines: string[] = [];

  constructor(private readonly placer: FilePlacer, private readonly baseName: string, private readonly format: ShipFormat, private readonly mtimeSeconds: number) {}

  /** `payload` may be a reused buffer: it is copied or converted here. */
  add(kind: FrameKind.Good | FrameKind.Bad, payload: Buffer): void {
    if (kind === FrameKind.Bad) {
      this.badLines.push(`${payload.toString('utf8')}\n`);
      return;
    }
    this.goodCount++;
    if (this.format === 'gzip') {
      this.goodLines.push(`${payload.toString('base64')}\n`);
      return;
    }
    this.lzo ??= new LzoFileWriter(`${this.baseName}.lzo`, this.mtimeSeconds, this.placer);
    this.lzo.add(payload);
  }

  finish(): { good: OutputSet | null; bad: OutputSet | null } {
    let good: OutputSet | null = null;
    if (this.lzo !== null) {
      const { file, index } = this.lzo.finish();
      this.lzo = null;
      good = { ext: 'lzo', records: this.goodCount, file, index };
    } else if (this.goodLines.length > 0) {
      good = { ext: 'gz', records: this.goodCount, file: writeWhole(this.placer.open(`${this.baseName}.gz`), gzipSync(this.goodLines.join(''))), index: null };
    }
    const bad: OutputSet | null = this.badLines.length === 0
      ? null
      : { ext: 'json.gz', records: this.badLines.length, file: writeWhole(this.placer.open(`${this.baseName}.bad.json.gz`), gzipSync(this.badLines.join(''))), index: null };
    return { good, bad };
  }

  /** Closes an unfinished LZO file (the caller removes the directory). */
  abort(): void {
    this.lzo?.abort();
    this.lzo = null;
  }
}

/**
 * Builds a sealed segment's files, reading it through one buffer of `chunkBytes`
 * (SegmentFileReader), never whole. Throws when the segment is unreadable or not sealed, after
 * closing what it was writing; the caller removes the directory.
 */
export function buildSegmentOutputs(segmentPath: string, out: string | FilePlacer, baseName: string, format: ShipFormat, chunkBytes: number): SegmentOutputs {
  const placer = typeof out === 'string' ? directoryPlacer(out) : out;
  const built = withSegmentFile(segmentPath, chunkBytes, (reader): SegmentOutputs => {
    // The LZO header carries the first event's time, from the footer: read it before the records.
    const trailing = trailingFooter(reader);
    const builder = new SegmentOutputBuilder(placer, baseName, format, trailing === null ? 0 : Math.floor(trailing.firstMs / 1000));
    try {
      const walk = walkSegment(reader, (kind, _offset, payload) => builder.add(kind, payload));
      if (typeof walk === 'string') throw new Error(`${segmentPath}: ${walk}`);
      if (walk.footer === null) throw new Error(`${segmentPath}: not sealed (${walk.problem ?? 'no footer'})`);
      return { header: walk.header, footer: walk.footer, ...builder.finish() };
    } catch (e) {
      builder.abort();
      throw e;
    }
  });
  if (typeof built === 'string') throw new Error(`${segmentPath}: ${built}`);
  return built;
}
