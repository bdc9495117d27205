/**
 * Turns one sealed WAL segment into the files to upload: good records as a splittable LZO file
 * (elephant-bird blocks of 100 records in an lzop container) with its .lzo.index, or as gzip with
 * one base64 record per line; bad rows as gzip JSON lines. Every CRC is checked while reading.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeBlock, RECORDS_PER_BLOCK } from '../lzo/elephant-bird';
import { LzopWriter } from '../lzo/lzop-writer';
import { FrameKind, type SegmentFooter, type SegmentHeader } from '../wal/segment-format';
import { scanSegmentFile } from '../wal/segment-scanner';

export type ShipFormat = 'lzo' | 'gzip';

export interface LocalFile {
  path: string;
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

class HashingFile {
  private readonly fd: number;
  private readonly hash: Hash = createHash('md5');
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off);
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /**
   * Not synced: these are scratch files, uploaded and deleted within seconds (the WAL keeps the
   * segment until S3 confirms it). A sync wrote each segment's 20-30 MB of LZO to the WAL's disk,
   * and the WAL's own fdatasyncs (the acknowledgements) queued behind it.
   */
  close(): LocalFile {
    closeSync(this.fd);
    return { path: this.path, bytes: this.bytes, md5: this.hash.digest('hex') };
  }
}

function writeWhole(path: string, data: Buffer): LocalFile {
  const f = new HashingFile(path);
  f.write(data);
  return f.close();
}

/**
 * A splittable LZO file written record by record: elephant-bird blocks of 100 records in an lzop
 * container, then its .lzo.index beside it. Memory: one block of records and one LZO block.
 */
export class LzoFileWriter {
  private readonly out: HashingFile;
  private readonly lzop: LzopWriter;
  private pending: Buffer[] = [];

  constructor(readonly path: string, mtimeSeconds: number) {
    this.out = new HashingFile(path);
    this.lzop = new LzopWriter(this.out, mtimeSeconds);
  }

  add(record: Buffer): void {
    this.pending.push(record);
    if (this.pending.length === RECORDS_PER_BLOCK) {
      this.lzop.write(encodeBlock(this.pending));
      this.pending = [];
    }
  }

  finish(): { file: LocalFile; index: LocalFile } {
    if (this.pending.length > 0) this.lzop.write(encodeBlock(this.pending));
    this.pending = [];
    this.lzop.finish();
    return { file: this.out.close(), index: writeWhole(`${this.path}.index`, this.lzop.index()) };
  }
}

/** Writes records as LZO + index; returns the files. */
export function writeLzoFile(records: readonly Buffer[], path: string, mtimeSeconds: number): { file: LocalFile; index: LocalFile } {
  const w = new LzoFileWriter(path, mtimeSeconds);
  for (const r of records) w.add(r);
  return w.finish();
}

export function buildSegmentOutputs(segmentPath: string, outDir: string, baseName: string, format: ShipFormat): SegmentOutputs {
  const scan = scanSegmentFile(segmentPath);
  if (typeof scan === 'string') throw new Error(`${segmentPath}: ${scan}`);
  if (scan.footer === null) throw new Error(`${segmentPath}: not sealed (${scan.problem ?? 'no footer'})`);
  const good: Buffer[] = [];
  const bad: Buffer[] = [];
  for (const r of scan.records) (r.kind === FrameKind.Good ? good : bad).push(r.payload);
  const mtime = Math.floor(scan.footer.firstMs / 1000);
  let goodOut: OutputSet | null = null;
  if (good.length > 0) {
    if (format === 'lzo') {
      const { file, index } = writeLzoFile(good, join(outDir, `${baseName}.lzo`), mtime);
      goodOut = { ext: 'lzo', records: good.length, file, index };
    } else {
      const lines = good.map((r) => `${r.toString('base64')}\n`).join('');
      goodOut = { ext: 'gz', records: good.length, file: writeWhole(join(outDir, `${baseName}.gz`), gzipSync(lines)), index: null };
    }
  }
  let badOut: OutputSet | null = null;
  if (bad.length > 0) {
    const lines = bad.map((r) => `${r.toString('utf8')}\n`).join('');
    badOut = { ext: 'json.gz', records: bad.length, file: writeWhole(join(outDir, `${baseName}.bad.json.gz`), gzipSync(lines)), index: null };
  }
  return { header: scan.header, footer: scan.footer, good: goodOut, bad: badOut };
}
