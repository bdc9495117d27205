/**
 * `sluice inspect <file>`: decodes a WAL segment, an .lzo (with its .lzo.index when present), or
 * a gzip file (base64 records or bad-row JSON lines) to JSON lines with every CollectorPayload
 * field. --count prints counts only; --verify checks every checksum, frame, block and index entry
 * and exits non-zero naming the byte offset of the first problem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeBlock, BLOCK_MARKER } from '../lzo/elephant-bird';
import { LzopError, readLzopBlocks } from '../lzo/lzop-reader';
import { LZOP_MAGIC } from '../lzo/lzop-writer';
import { type CollectorPayload } from '../payload/collector-payload';
import { DecodeError, decodeCollectorPayload } from '../payload/decode-payload';
import { FrameKind, MAGIC as WAL_MAGIC } from '../wal/segment-format';
import { scanSegmentBuffer } from '../wal/segment-scanner';
import { CliError } from './cli-error';

export const INSPECT_USAGE = `Usage: sluice inspect <file> [--count] [--verify]

Decodes a WAL segment (.seg), a shipped .lzo (its .lzo.index is checked when beside it) or a
.gz file to JSON lines, one per record, with every CollectorPayload field.

  --count    print only the numbers of records (good, bad) and blocks
  --verify   check every checksum, frame, block and index entry; exit 1 naming the byte offset
             of the first problem
  --help     this text`;

export type FileKind = 'segment' | 'lzo' | 'gzip';

export interface RecordOut {
  kind: 'good' | 'bad';
  /** Where the record's container starts (WAL frame offset, or LZO block offset). */
  offset: number;
  bytes: Buffer;
}

export interface InspectResult {
  kind: FileKind;
  records: RecordOut[];
  blocks: number;
  indexEntries: number | null;
  /** WAL segments: frames recovery set aside as corrupt (void frames), with their offsets. */
  voidFrames: Array<{ offset: number; bytes: number }>;
}

export function detectKind(buf: Buffer, path: string): FileKind {
  if (buf.subarray(0, 8).equals(WAL_MAGIC)) return 'segment';
  if (buf.subarray(0, 9).equals(LZOP_MAGIC)) return 'lzo';
  if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  throw new CliError(`${path}: not a WAL segment, lzop or gzip file (unknown magic ${buf.subarray(0, 4).toString('hex')} at byte offset 0)`);
}

function readSegment(buf: Buffer, path: string, verify: boolean): InspectResult {
  const scan = scanSegmentBuffer(buf);
  if (typeof scan === 'string') throw new CliError(`${path}: ${scan} (byte offset 0)`);
  if (verify && scan.problem !== null) throw new CliError(`${path}: ${scan.problem}`);
  if (verify && scan.footer === null && scan.problem === null) {
    // An open segment (the collector is writing it) ends at a clean end marker: valid.
  }
  return {
    kind: 'segment', blocks: 0, indexEntries: null, voidFrames: scan.voids,
    records: scan.records.map((r) => ({ kind: r.kind === FrameKind.Good ? 'good' : 'bad', offset: r.offset, bytes: r.payload })),
  };
}

/** Decompresses and frames an .lzo; checks the index against the block offsets when asked. */
export function readLzo(buf: Buffer, path: string, index: Buffer | null, verify: boolean): InspectResult {
  const offsets: number[] = [];
  const parts: Buffer[] = [];
  const blockStarts: number[] = [];
  let total = 0;
  try {
    for (const b of readLzopBlocks(buf)) {
      offsets.push(b.offset);
      blockStarts.push(total);
      parts.push(b.data);
      total += b.data.length;
    }
  } catch (e) {
    if (e instanceof LzopError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  const stream = Buffer.concat(parts, total);
  // Map a stream position back to the LZO block holding it, for error offsets.
  const blockAt = (pos: number): number => {
    let i = 0;
    while (i + 1 < blockStarts.length && blockStarts[i + 1]! <= pos) i++;
    return offsets[i] ?? 0;
  };
  const records: RecordOut[] = [];
  let pos = 0;
  let blocks = 0;
  if (stream.length > 0 && !stream.subarray(0, 16).equals(BLOCK_MARKER)) throw new CliError(`${path}: decompressed data does not start with an elephant-bird block marker (byte offset ${offsets[0] ?? 0})`);
  while (pos < stream.length) {
    let block;
    try {
      block = decodeBlock(stream, pos);
    } catch (e) {
      throw new CliError(`${path}: ${(e as Error).message.replace(/ at \d+$/, '')} in the LZO block at byte offset ${blockAt(pos)}`);
    }
    if (verify && block.records.length > 100) throw new CliError(`${path}: elephant-bird block of ${block.records.length} records (more than 100) in the LZO block at byte offset ${blockAt(pos)}`);
    for (const r of block.records) records.push({ kind: 'good', offset: blockAt(pos), bytes: r });
    blocks++;
    pos = block.end;
  }
  let indexEntries: number | null = null;
  if (index !== null) {
    if (index.length % 8 !== 0) throw new CliError(`${path}.index: ${index.length} bytes is not a whole number of 8-byte entries`);
    indexEntries = index.length / 8;
    if (verify) {
      for (let i = 0; i < indexEntries; i++) {
        const entry = Number(index.readBigInt64BE(i * 8));
        if (entry !== offsets[i]) throw new CliError(`${path}.index: entry ${i} is ${entry}, not the start of an LZO block (expected byte offset ${offsets[i] ?? 'none'})`);
      }
      if (indexEntries !== offsets.length) throw new CliError(`${path}.index: ${indexEntries} entries for ${offsets.length} LZO blocks`);
    }
  }
  return { kind: 'lzo', records, blocks, indexEntries, voidFrames: [] };
}

function readGzip(buf: Buffer, path: string): InspectResult {
  let text: string;
  try {
    text = gunzipSync(buf).toString('utf8');
  } catch (e) {
    throw new CliError(`${path}: gzip data is corrupt: ${(e as Error).message}`);
  }
  const records: RecordOut[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    if (line !== '') {
      const isJson = line.startsWith('{');
      records.push({ kind: isJson ? 'bad' : 'good', offset, bytes: isJson ? Buffer.from(line, 'utf8') : Buffer.from(line, 'base64') });
    }
    offset += Buffer.byteLength(line) + 1;
  }
  return { kind: 'gzip', records, blocks: 0, indexEntries: null, voidFrames: [] };
}

export function inspectFile(path: string, verify: boolean): InspectResult {
  if (!existsSync(path)) throw new CliError(`${path}: no such file`);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CliError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const kind = detectKind(buf, path);
  if (kind === 'segment') return readSegment(buf, path, verify);
  if (kind === 'gzip') return readGzip(buf, path);
  const indexPath = indexPathOf(path);
  return readLzo(buf, path, indexPath === null ? null : readFileSync(indexPath), verify);
}

/** s3rver keeps an object `K` as the file `K._S3rver_object` (the embedded S3's directory layout). */
const S3RVER_OBJECT = '._S3rver_object';

/** The index beside an .lzo: `<file>.index`, or in the embedded S3's directory `<key>.index._S3rver_object`. */
export function indexPathOf(path: string): string | null {
  const candidates = path.endsWith(S3RVER_OBJECT) ? [`${path.slice(0, -S3RVER_OBJECT.length)}.index${S3RVER_OBJECT}`] : [`${path}.index`];
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** JSON of a record: every CollectorPayload field for good records, the bad row's JSON otherwise. */
export function recordJson(r: RecordOut, path: string): string {
  if (r.kind === 'bad') return r.bytes.toString('utf8');
  let p: CollectorPayload;
  try {
    p = decodeCollectorPayload(r.bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new CliError(`${path}: record in the container at byte offset ${r.offset} is not a CollectorPayload: ${e.message}`);
    throw e;
  }
  return JSON.stringify({
    schema: p.schema, ipAddress: p.ipAddress, timestamp: p.timestamp, encoding: p.encoding, collector: p.collector,
    userAgent: p.userAgent ?? null, refererUri: p.refererUri ?? null, path: p.path ?? null, querystring: p.querystring ?? null,
    body: p.body ?? null, headers: p.headers ?? null, contentType: p.contentType ?? null, hostname: p.hostname ?? null,
    networkUserId: p.networkUserId ?? null,
  });
}

export function runInspect(argv: readonly string[], out: (line: string) => void): number {
  let file: string | null = null;
  let count = false;
  let verify = false;
  for (const a of argv) {
    if (a === '--help' || a === '-h') { out(INSPECT_USAGE); return 0; }
    if (a === '--count') count = true;
    else if (a === '--verify') verify = true;
    else if (a.startsWith('-')) throw new CliError(`inspect: unknown option ${a} (see --help)`, 2);
    else if (file === null) file = a;
    else throw new CliError('inspect: one file at a time', 2);
  }
  if (file === null) throw new CliError(`inspect: which file?\n${INSPECT_USAGE}`, 2);
  const result = inspectFile(file, verify);
  // Decoding every record is part of --verify too.
  const lines = count && !verify ? [] : result.records.map((r) => recordJson(r, file!));
  if (count || verify) {
    const good = result.records.filter((r) => r.kind === 'good').length;
    // `checks`: what this run checked. Without --verify only the framing needed to count was read.
    out(JSON.stringify({ file, kind: result.kind, records: result.records.length, good, bad: result.records.length - good, blocks: result.blocks, indexEntries: result.indexEntries, voidFrames: result.voidFrames, checks: verify ? 'all checksums, frames, blocks, index entries and records passed' : 'counted only (use --verify to check)' }));
    return 0;
  }
  for (const l of lines) out(l);
  return 0;
}
