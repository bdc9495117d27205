/**
 * `sluice consolidate --hour H [--to-hour H2]`: merges the .lzo files of every instance for an hour
 * into one splittable LZO with its index, `consolidated-<yyyyMMddHH>.lzo` in the hour's folder.
 *
 * Streaming: one input file is in memory at a time (inputs are segment-sized) and the output is
 * written to a local file, so memory does not grow with the hour. Record order: inputs in key order
 * (instance id, then segment sequence), records in each input's order.
 * Safety: the output is read back and its record count and checksum (CRC32C chained over every
 * record) compared with the inputs' before upload; a manifest of the merged inputs is uploaded
 * after the output is confirmed and before any input is deleted (only with --delete-inputs).
 * Restartable and idempotent: a rerun finds the manifest, deletes what it lists (when asked) and
 * merges only inputs that arrived later, together with the existing output.
 */
import { crc32c } from '@node-rs/crc32';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../config/load';
import { recordsOfPieces } from '../lzo/elephant-bird';
import { readLzopBlocks, readLzopFile } from '../lzo/lzop-reader';
import { objectKey } from '../ship/key-template';
import { uploadFile, withRetries, type RetryPolicy, type S3Settings } from '../ship/s3-target';
import { LzoFileWriter } from '../ship/segment-files';
import { CliError } from './cli-error';
import { openS3Session } from './s3-session';
import { Progress } from './progress';

export const CONSOLIDATE_USAGE = `Usage: sluice consolidate --hour YYYY-MM-DDTHH [--to-hour YYYY-MM-DDTHH] [--delete-inputs] [--config FILE]

Merges the .lzo files of every instance for an hour (or each hour of a range, UTC) into one
splittable LZO with its .lzo.index: consolidated-<yyyyMMddHH>.lzo in the hour's folder. The
output is verified (record count and checksum) against the inputs before it is uploaded; inputs
are deleted only with --delete-inputs, after the output and its manifest are confirmed in S3.
Safe to rerun after an interruption. Record order: inputs by key (instance, then segment), then
records in file order. Memory holds one input file at a time.

  --hour H          first hour, e.g. 2026-11-26T08
  --to-hour H       last hour of a range (default: --hour)
  --delete-inputs   delete the merged inputs and their indexes once the output is confirmed
  --config FILE     the collector's configuration (s3 and ship sections; SLUICE_* overrides apply)
  --help            this text`;

interface Manifest {
  output: string;
  records: number;
  checksum: number;
  inputs: Array<{ key: string; records: number }>;
}

interface Ctx {
  client: S3Client;
  s3: S3Settings;
  retry: RetryPolicy;
  out: (line: string) => void;
}

const HOUR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

function parseHour(v: string, flag: string): number {
  const m = HOUR.exec(v);
  if (m === null) throw new CliError(`consolidate: ${flag} ${v}: expected YYYY-MM-DDTHH (UTC)`, 2);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  const d = new Date(ms);
  if (Number.isNaN(ms) || d.getUTCMonth() + 1 !== Number(m[2]) || d.getUTCDate() !== Number(m[3]) || d.getUTCHours() !== Number(m[4])) throw new CliError(`consolidate: ${flag} ${v} is not a valid hour`, 2);
  return ms;
}

async function listKeys(ctx: Ctx, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    // ListObjects v1: pages correctly on s3rver too (its V2 breaks past 1000 keys on Node 20).
    const r = await withRetries(`list ${prefix}`, ctx.retry, () => ctx.client.send(new ListObjectsCommand({ Bucket: ctx.s3.bucket, Prefix: prefix, Marker: marker })), () => undefined);
    const contents = r.Contents ?? [];
    for (const o of contents) if (o.Key !== undefined) keys.push(o.Key);
    if (!r.IsTruncated || contents.length === 0) break;
    marker = contents[contents.length - 1]!.Key;
  }
  return keys.sort();
}

/** The object's bytes, or null when it does not exist (a 404 is an answer, not retried). */
async function getObject(ctx: Ctx, key: string): Promise<Buffer | null> {
  return withRetries(`get ${key}`, ctx.retry, async () => {
    try {
      const r = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.s3.bucket, Key: key }));
      const bytes = await r.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (e as Error).name === 'NoSuchKey') return null;
      throw e;
    }
  }, () => undefined);
}

/** Records of an .lzo (a Buffer or a file path), every checksum checked, one block at a time. */
function* lzoRecords(source: Buffer | string, key: string): Generator<Buffer> {
  const blocks = typeof source === 'string' ? readLzopFile(source) : readLzopBlocks(source);
  try {
    yield* recordsOfPieces((function* pieces() { for (const b of blocks) yield b.data; })());
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`consolidate: ${key}: ${(e as Error).message}`);
  }
}

async function consolidateHour(ctx: Ctx, hourMs: number, keyTemplate: string, prefix: string, deleteInputs: boolean): Promise<void> {
  const folder = dirname(objectKey(keyTemplate, { prefix, instance: 'x', seq: 0, firstEventMs: hourMs, ext: 'lzo' }));
  const d = new Date(hourMs);
  const stamp = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}${String(d.getUTCHours()).padStart(2, '0')}`;
  const outKey = `${folder}/consolidated-${stamp}.lzo`;
  const manifestKey = `${outKey}.manifest.json`;
  const all = await listKeys(ctx, `${folder}/`);
  const inputs = all.filter((k) => k.endsWith('.lzo') && !k.slice(folder.length + 1).startsWith('consolidated-'));
  const manifestBytes = await getObject(ctx, manifestKey);
  const manifest: Manifest | null = manifestBytes === null ? null : (JSON.parse(manifestBytes.toString('utf8')) as Manifest);
  const merged = new Set(manifest?.inputs.map((i) => i.key) ?? []);
  const fresh = inputs.filter((k) => !merged.has(k));

  if (fresh.length > 0) {
    const work = mkdtempSync(join(tmpdir(), 'sluice-consolidate-'));
    try {
      // Sources: the existing output (when a previous run made one), then the new inputs.
      const sources: Array<{ key: string; previous: boolean }> = [];
      if (manifest !== null) sources.push({ key: outKey, previous: true });
      for (const k of fresh) sources.push({ key: k, previous: false });
      const progress = new Progress(`consolidate ${stamp}`, sources.length, 'files');
      let count = 0;
      let checksum = 0;
      const inputsMeta: Manifest['inputs'] = manifest === null ? [] : [...manifest.inputs];
      const outPath = join(work, 'out.lzo');
      const writer = new LzoFileWriter(outPath, Math.floor(hourMs / 1000));
      for (const src of sources) {
        const file = await getObject(ctx, src.key);
        if (file === null) throw new CliError(`consolidate: ${src.key} disappeared while consolidating`);
        let n = 0;
        for (const r of lzoRecords(file, src.key)) { writer.add(r); checksum = crc32c(r, checksum); n++; }
        if (src.previous && n !== manifest!.records) throw new CliError(`consolidate: ${outKey} holds ${n} records, its manifest says ${manifest!.records}`);
        count += n;
        if (!src.previous) inputsMeta.push({ key: src.key, records: n });
        progress.add(1);
      }
      const { file, index } = writer.finish();
      progress.finish();
      // Read the output back before it replaces anything.
      let againCount = 0;
      let againSum = 0;
      for (const r of lzoRecords(outPath, outPath)) { againSum = crc32c(r, againSum); againCount++; }
      if (againCount !== count || againSum !== checksum) throw new CliError(`consolidate: the output holds ${againCount} records (checksum ${againSum}), the inputs ${count} (checksum ${checksum}); nothing uploaded`);
      await withRetries(`upload ${outKey}`, ctx.retry, () => uploadFile(ctx.client, ctx.s3, outKey, file, 'application/x-lzop'), () => undefined);
      await withRetries(`upload ${outKey}.index`, ctx.retry, () => uploadFile(ctx.client, ctx.s3, `${outKey}.index`, index, 'application/octet-stream'), () => undefined);
      const next: Manifest = { output: outKey, records: count, checksum, inputs: inputsMeta };
      await withRetries(`upload ${manifestKey}`, ctx.retry, () => ctx.client.send(new PutObjectCommand({ Bucket: ctx.s3.bucket, Key: manifestKey, Body: JSON.stringify(next), ContentType: 'application/json' })), () => undefined);
      for (const k of fresh) merged.add(k);
      ctx.out(JSON.stringify({ hour: stamp, output: outKey, records: count, inputs: inputsMeta.length, merged: fresh.length }));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } else if (manifest === null) {
    ctx.out(JSON.stringify({ hour: stamp, output: null, inputs: 0, note: 'nothing to consolidate' }));
    return;
  } else {
    ctx.out(JSON.stringify({ hour: stamp, output: outKey, records: manifest.records, inputs: manifest.inputs.length, merged: 0, note: 'already consolidated' }));
  }

  if (deleteInputs) {
    const doomed = inputs.filter((k) => merged.has(k)).flatMap((k) => [k, `${k}.index`]).filter((k) => all.includes(k));
    for (let i = 0; i < doomed.length; i += 1000) {
      const batch = doomed.slice(i, i + 1000);
      await withRetries('delete inputs', ctx.retry, () => ctx.client.send(new DeleteObjectsCommand({ Bucket: ctx.s3.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })), () => undefined);
    }
    ctx.out(JSON.stringify({ hour: stamp, deleted: doomed.length }));
  }
}

export async function runConsolidate(argv: readonly string[], out: (line: string) => void): Promise<number> {
  let hour: string | null = null;
  let toHour: string | null = null;
  let configFile: string | null = null;
  let deleteInputs = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') { out(CONSOLIDATE_USAGE); return 0; }
    if (a === '--delete-inputs') { deleteInputs = true; continue; }
    if (a === '--hour' || a === '--to-hour' || a === '--config') {
      const v = argv[++i];
      if (v === undefined) throw new CliError(`consolidate: ${a} needs a value`, 2);
      if (a === '--hour') hour = v; else if (a === '--to-hour') toHour = v; else configFile = v;
      continue;
    }
    throw new CliError(`consolidate: unknown argument ${a} (see --help)`, 2);
  }
  if (hour === null) throw new CliError(`consolidate: --hour is required\n${CONSOLIDATE_USAGE}`, 2);
  const from = parseHour(hour, '--hour');
  const to = toHour === null ? from : parseHour(toHour, '--to-hour');
  if (to < from) throw new CliError('consolidate: --to-hour is before --hour', 2);
  if ((to - from) / 3_600_000 > 24 * 366) throw new CliError('consolidate: at most a year of hours per run', 2);
  const { config } = await loadConfig(configFile);
  const session = await openS3Session(config, 'consolidate');
  const { client, s3 } = session;
  try {
    const ctx: Ctx = { client, s3, out, retry: { maxAttempts: config.ship.maxAttempts, baseDelayMs: config.ship.retryBaseDelayMs, maxDelayMs: config.ship.retryMaxDelayMs } };
    for (let h = from; h <= to; h += 3_600_000) await consolidateHour(ctx, h, config.ship.keyTemplate, config.s3.prefix, deleteInputs);
  } finally {
    await session.close();
  }
  return 0;
}
