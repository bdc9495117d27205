/**
 * `sluice replay <wal-dir>`: recovers a WAL directory (the instance's own after a crash, or a dead
 * instance's volume mounted elsewhere) and ships every sealed segment with the collector's
 * deterministic keys, deleting each segment once its objects are confirmed. Running it twice, or
 * after the instance shipped part of it, creates no duplicates: the same keys are overwritten.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/load';
import { streamSinkEnabled } from '../config/streams-block';
import { replayIntoStream } from './replay-stream';
import { objectKey } from '../ship/key-template';
import { Outbox } from '../ship/outbox';
import { shipSegment } from '../ship/ship-segment';
import type { ShipPlan } from '../ship/ship-plan';
import { s3Settings } from '../ship/start-shipper';
import { eventSpan, recoverWal } from '../wal/recovery';
import { FrameKind } from '../wal/segment-format';
import { SEGMENT_NAME, SHARD_DIR_NAME, STATE_FILE } from '../wal/wal-files';
import { WalLock, WalLockedError } from '../wal/wal-lock';
import { recordTimeMs } from '../payload/record-time';
import { scanSegmentFile } from '../wal/segment-scanner';
import { readWalState } from '../wal/wal-state';
import { CliError } from './cli-error';
import { openS3Session } from './s3-session';
import { Progress } from './progress';

export const REPLAY_USAGE = `Usage: sluice replay <wal-dir> [--dry-run] [--to-dir DIR] [--config FILE]

Recovers every segment of a WAL directory (torn tails cut, unreadable segments quarantined) and
ships what was not shipped, with the collector's keys, so a second run or a run after a partial
ship creates no duplicates. Each segment is deleted once its objects are confirmed.

  --dry-run      report what would be shipped (segments, records, keys); change nothing
  --to-dir DIR   write the files under DIR at their keys instead of uploading
  --config FILE  the collector's configuration (s3 and ship sections; SLUICE_* overrides apply)
  --stream-only  put the records into the stream only (no S3 files)
  --help         this text

With the stream sink on in the configuration (collector.streams), the records also go to its
Kinesis streams, from the WAL's stream checkpoint: what the instance had already put is not sent
again. A segment is deleted only once every sink has it. The bucket and the streams must exist.`;

export interface ReplayOptions {
  walDir: string;
  dryRun: boolean;
  streamOnly: boolean;
  toDir: string | null;
  configFile: string | null;
}

export function parseReplayArgs(argv: readonly string[]): ReplayOptions | 'help' {
  let walDir: string | null = null;
  let dryRun = false;
  let streamOnly = false;
  let toDir: string | null = null;
  let configFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--dry-run') dryRun = true;
    else if (a === '--stream-only') streamOnly = true;
    else if (a === '--to-dir' || a === '--config') {
      const v = argv[++i];
      if (v === undefined) throw new CliError(`replay: ${a} needs a value`, 2);
      if (a === '--to-dir') toDir = v; else configFile = v;
    } else if (a.startsWith('-')) throw new CliError(`replay: unknown option ${a} (see --help)`, 2);
    else if (walDir === null) walDir = a;
    else throw new CliError('replay: one WAL directory at a time', 2);
  }
  if (walDir === null) throw new CliError(`replay: which WAL directory?\n${REPLAY_USAGE}`, 2);
  if (streamOnly && toDir !== null) throw new CliError('replay: --stream-only writes no files (drop --to-dir)', 2);
  return { walDir, dryRun, streamOnly, toDir, configFile };
}

/** Locks taken by this process (a shard's replay runs inside its parent's). */
const heldLocks: WalLock[] = [];

const quiet = { info: (): void => undefined, warn: (o: object, m: string): void => { process.stderr.write(`${m} ${JSON.stringify(o)}\n`); } };

export async function runReplay(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const args = parseReplayArgs(argv);
  if (args === 'help') { out(REPLAY_USAGE); return 0; }
  const dir = resolve(args.walDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`replay: ${args.walDir} is not a directory`);
  // The collector's own lock: a running collector (or another replay) on this directory, or on the
  // directory above a shard, keeps replay out. Held until the process exits.
  const parent = SHARD_DIR_NAME.test(basename(dir)) ? dirname(dir) : null;
  for (const d of parent === null ? [dir] : [parent, dir]) {
    if (heldLocks.some((l) => l.dir === d)) continue;
    try {
      heldLocks.push(WalLock.acquire(d, 'replay'));
    } catch (e) {
      if (e instanceof WalLockedError) throw new CliError(`replay: ${e.message} (a collector ships its own WAL)`);
      throw e;
    }
  }
  // A collector with wal.shards > 1 keeps one WAL per HTTP thread in shard-<n>: replay each.
  const shards = readdirSync(dir).filter((n) => SHARD_DIR_NAME.test(n) && statSync(join(dir, n)).isDirectory()).sort();
  if (shards.length > 0) {
    const walDirs = readdirSync(dir).some((n) => SEGMENT_NAME.test(n)) ? [dir, ...shards.map((n) => join(dir, n))] : shards.map((n) => join(dir, n));
    for (const sub of walDirs) {
      out(JSON.stringify({ wal: sub }));
      const rest = [...(args.dryRun ? ['--dry-run'] : []), ...(args.streamOnly ? ['--stream-only'] : []), ...(args.toDir === null ? [] : ['--to-dir', args.toDir]), ...(args.configFile === null ? [] : ['--config', args.configFile])];
      if (sub === dir) await replayOneDir(sub, args, out); else await runReplay([sub, ...rest], out);
    }
    return 0;
  }
  return replayOneDir(dir, args, out);
}

/** Replays one WAL directory (no shards below it). */
async function replayOneDir(dir: string, args: ReplayOptions, out: (line: string) => void): Promise<number> {
  const { config } = await loadConfig(args.configFile);
  const names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
  if (names.length === 0 && !existsSync(join(dir, STATE_FILE))) throw new CliError(`replay: ${args.walDir} holds no WAL (no segments, no wal.state)`);

  if (args.dryRun) {
    const state = readWalState(dir);
    let total = 0;
    for (const name of names) {
      const scan = scanSegmentFile(join(dir, name));
      if (typeof scan === 'string') { out(JSON.stringify({ segment: name, action: 'quarantine', reason: scan })); continue; }
      const instance = state?.instanceId ?? scan.header.instanceId;
      const good = scan.records.filter((r) => r.kind === FrameKind.Good).length;
      // What recovery will write in the footer of an open segment: the same key as the real run.
      const firstMs = scan.footer !== null ? scan.footer.firstMs : eventSpan(scan.records, scan.header.createdMs, recordTimeMs)[0];
      const ext = config.ship.format === 'lzo' ? 'lzo' : 'gz';
      const key = objectKey(config.ship.keyTemplate, { prefix: config.s3.prefix, instance, seq: scan.header.seq, firstEventMs: firstMs, ext });
      total += scan.records.length;
      out(JSON.stringify({ segment: name, action: scan.records.length === 0 ? 'remove (empty)' : 'ship', state: scan.footer !== null ? 'sealed' : scan.problem === null ? 'open' : `torn: ${scan.problem}`, records: scan.records.length, good, bad: scan.records.length - good, key: good > 0 ? key : null }));
    }
    out(JSON.stringify({ dryRun: true, segments: names.length, records: total }));
    return 0;
  }

  const report = recoverWal(dir, quiet, recordTimeMs);
  for (const q of report.quarantined) out(JSON.stringify({ quarantined: q.file, reason: q.reason }));
  const toStream = streamSinkEnabled(config);
  if (args.streamOnly && !toStream) throw new CliError('replay: --stream-only needs the stream sink in the configuration (collector.streams.good.name)', 2);
  if (toStream) {
    // The stream first: a segment leaves the WAL only once every sink has it.
    const r = await replayIntoStream(config, dir, report.instanceId, report.sealed);
    out(JSON.stringify({ stream: config.collector.streams.good.name, from: r.from, recordsPut: r.recordsPut, resent: r.resent }));
    if (args.streamOnly) {
      for (const seg of report.sealed) rmSync(seg.path, { force: true });
      out(JSON.stringify({ segments: report.sealed.length, records: r.recordsPut, quarantined: report.quarantined.length, to: 'stream' }));
      return 0;
    }
  }
  const session = args.toDir === null ? await openS3Session(config, 'replay') : null;
  const work = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
  const plan: ShipPlan = {
    s3: session?.s3 ?? s3Settings(config),
    format: config.ship.format, keyTemplate: config.ship.keyTemplate,
    prefix: config.s3.prefix, badPrefix: config.s3.badPrefix, outDir: work, readChunkBytes: config.ship.readChunkBytes, concurrency: 1,
    retry: { maxAttempts: config.ship.maxAttempts, baseDelayMs: config.ship.retryBaseDelayMs, maxDelayMs: config.ship.retryMaxDelayMs },
  };
  // One unreserved slot in the temporary directory, reused segment after segment.
  const outbox = new Outbox(work, 1, 0);
  const slot = outbox.acquire()!;
  const totalRecords = report.sealed.reduce((n, s) => n + s.footer.records, 0);
  const progress = new Progress('replay', totalRecords, 'records');
  let shipped = 0;
  try {
    for (const seg of report.sealed) {
      const info = await shipSegment({ instanceId: report.instanceId, seq: seg.seq, path: seg.path, firstMs: seg.footer.firstMs }, plan, session?.client ?? null, slot.placer, args.toDir === null ? {} : { toDir: resolve(args.toDir) });
      rmSync(seg.path, { force: true });
      shipped += info.records;
      progress.add(info.records);
      out(JSON.stringify({ segment: seg.seq, records: info.records, keys: info.keys }));
    }
  } catch (e) {
    throw new CliError(`replay: ${(e as Error).message} (segments not yet shipped stay in ${args.walDir})`);
  } finally {
    progress.finish();
    outbox.close();
    rmSync(work, { recursive: true, force: true });
    await session?.close();
  }
  out(JSON.stringify({ segments: report.sealed.length, records: shipped, quarantined: report.quarantined.length, to: args.toDir ?? `s3://${config.s3.bucket}` }));
  return 0;
}
