/**
 * `node dist/server [--config FILE]`: the collector process.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config/load';
import { CollectorShard, WalOpenError } from './http/collector-shard';
import type { HealthSource } from './http/collector-service';
import { HttpWorkers, WorkerStartError } from './http/http-workers';
import { LocalShards, type ShardSet } from './http/shard-set';
import { AdminHostPolicy } from './ops/admin-host';
import { AdminServer } from './ops/admin-server';
import { CollectorMetrics } from './ops/collector-metrics';
import { Lifecycle } from './ops/lifecycle';
import { logger } from './ops/logger';
import { ProcessMetrics } from './ops/process-metrics';
import { VERSION } from './ops/version';
import { startShipper } from './ship/start-shipper';
import { PID_FILE, SEGMENT_NAME } from './wal/wal-files';
import { WalLock, WalLockedError } from './wal/wal-lock';

const USAGE = `Usage: node dist/server [--config FILE]
       sluice server [--config FILE]

Starts the Sluice collector.

Options:
  --config FILE   HOCON or JSON configuration (SSC keys inside collector { }, Sluice's own
                  sections wal, ship, s3, admin beside it)
  --check         validate the configuration, print the keys without effect and the
                  effective settings as JSON, and exit (0 when valid, 2 naming the bad key)
  --help          show this help

Environment overrides: SLUICE_PORT (8080), SLUICE_ADMIN_PORT (9090), SLUICE_WAL_DIR (./data/wal),
SLUICE_S3_ENDPOINT (unset: embedded S3 in SLUICE_EMBEDDED_S3_DIR, ./data/s3), SLUICE_S3_BUCKET
(sluice-raw), SLUICE_S3_PREFIX (raw), SLUICE_SHIP_INTERVAL_S (60), SLUICE_DURABILITY (fsync|none),
SLUICE_LOG_LEVEL (info). Every setting: docs/configuration.md.`;

export interface ServerArgs { configFile: string | null; check: boolean }

export function parseServerArgs(argv: readonly string[]): ServerArgs | 'help' {
  let configFile: string | null = null;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--check') {
      check = true;
      continue;
    }
    if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError('--config', 'needs a file name');
      configFile = v;
    } else if (a.startsWith('--config=')) {
      configFile = a.slice('--config='.length);
    } else {
      throw new ConfigError(a, 'unknown argument (see --help)');
    }
  }
  return { configFile, check };
}

export async function runServer(argv: readonly string[]): Promise<void> {
  const args = parseServerArgs(argv);
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { config, notes } = await loadConfig(args.configFile);
  if (args.check) {
    for (const note of notes) process.stdout.write(`note: ${note}\n`);
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    process.stdout.write(`configuration ${args.configFile ?? '(defaults)'} is valid\n`);
    return;
  }
  for (const note of notes) logger.info({ note }, 'config');
  if (config.wal.durability === 'none') {
    logger.warn('DURABILITY NONE: events are acknowledged before they are on disk and can be lost; for benchmarks only');
  }
  // Fault injection for tests: block the event loop for this long every 1.5 s.
  const loopBlock = Number(process.env['SLUICE_FAULT_LOOP_BLOCK_MS'] ?? '0');
  if (loopBlock > 0) {
    setInterval(() => {
      const until = Date.now() + loopBlock;
      while (Date.now() < until) { /* busy */ }
    }, 1500).unref();
  }
  const w = config.wal;
  const shipIntervalMs = config.ship.intervalSeconds * 1000;
  // The open segment rolls early enough for its upload to finish within the ship interval.
  const rollAgeMs = config.ship.enabled ? Math.min(w.maxSegmentAge, shipIntervalMs - Math.min(5000, shipIntervalMs * 0.2)) : w.maxSegmentAge;
  // Before anything in the directory is read or changed: a second collector on a live WAL would
  // otherwise recover (and delete) the running one's open segment and spares.
  let walLock: WalLock;
  try {
    walLock = WalLock.acquire(w.dir, 'collector');
  } catch (e) {
    if (e instanceof WalLockedError) throw new StartError(`cannot start: ${e.message}`);
    throw e;
  }
  checkShardLayout(w.dir, w.shards);
  const processMetrics = new ProcessMetrics();
  const lifecycleRef: { current: Lifecycle | null } = { current: null };
  const health: HealthSource = {
    unhealthyReason: () => (lifecycleRef.current === null ? 'unhealthy: starting' : lifecycleRef.current.unhealthyReason()),
    sinkHealthy: () => lifecycleRef.current !== null && lifecycleRef.current.sinkHealthy(),
  };
  let shards: ShardSet | null = null;
  let dying = false;
  const fatal = (why: string): void => {
    if (dying) return;
    dying = true;
    logger.fatal({ why }, 'stopping: acknowledged events stay in the WAL');
    process.stderr.write(`sluice: ${why}\n`);
    // HTTP threads close their sockets and seal their shards first (at most 3 s).
    const threads = shards;
    void Promise.race([threads === null ? Promise.resolve() : threads.close().then(() => threads.terminate()), new Promise((r) => setTimeout(r, 3000))])
      .finally(() => process.exit(1));
  };
  try {
    if (w.shards === 1) {
      shards = new LocalShards(new CollectorShard({ config, walDir: w.dir, rollAgeMs, health }), processMetrics.loop);
    } else {
      shards = await HttpWorkers.open(config, w.shards, rollAgeMs, fatal);
    }
  } catch (e) {
    if (e instanceof WalOpenError || e instanceof WorkerStartError) throw new StartError(e.message);
    throw e;
  }
  // For operators' scripts; the lock is what keeps other processes out. Removed at exit only while
  // it still names this process.
  const pidFile = join(w.dir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`);
  process.on('exit', () => {
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
    } catch { /* absent or unreadable: not ours to remove */ }
    walLock.release();
  });
  const shipper = config.ship.enabled ? startShipper(config, shards.segments, logger, (why) => {
    const hint = config.s3.endpoint === null ? ` (embedded S3 on port ${config.s3.embeddedPort}, dir ${config.s3.embeddedDir}: set SLUICE_EMBEDDED_S3_PORT or SLUICE_S3_ENDPOINT)` : '';
    fatal(`cannot ship: ${why}${hint}`);
  }) : null;
  const maxLoopMs = config.admin.maxEventLoopDelay;
  const lifecycle = new Lifecycle({
    walRefusal: () => shards.walRefusal(),
    sinkHealthy: () => shards.sinkHealthy(),
    loopDelayMs: () => Math.max(shards.loopDelayMs(), processMetrics.loop.lastSecondMaxDelayMs),
  }, shipper, { maxLagMs: config.ship.maxLag, maxEventLoopDelayMs: maxLoopMs });
  lifecycleRef.current = lifecycle;
  if (shards instanceof HttpWorkers) shards.startHealthPush(() => lifecycle.checks(), maxLoopMs);
  const metrics = new CollectorMetrics({ shards: () => shards.snapshots(), shipper, process: processMetrics, lifecycle });
  let adminPort: number | null = null;
  const admin = config.admin.enabled ? new AdminServer(metrics, lifecycle, new AdminHostPolicy(config.admin.interface, config.admin.allowedHosts), (err) => logger.error({ err }, 'admin request failed')) : null;
  if (admin !== null) {
    try {
      adminPort = await admin.listen(config.admin.interface, config.admin.port);
    } catch (e) {
      throw new StartError(`cannot listen on the admin port ${config.admin.interface}:${config.admin.port}: ${(e as Error).message} (set SLUICE_ADMIN_PORT or admin.port)`);
    }
  }
  const port = await shards.listen(config.collector.interface, config.collector.port).catch((e: unknown) => {
    throw new StartError(`${(e as Error).message} (set SLUICE_PORT or collector.port)`);
  });
  lifecycle.phase = 'serving';
  logger.info({ port, adminPort, adminInterface: admin === null ? null : config.admin.interface, version: VERSION, walDir: w.dir, shards: shards.count, durability: w.durability, serializer: w.serializer, instanceIds: shards.instanceIds, shipping: config.ship.enabled }, 'listening');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now; unsynced data stays in the WAL');
      process.exit(1);
    }
    stopping = true;
    lifecycle.phase = 'pre-termination';
    logger.info({ signal, preTerminationMs: config.collector.preTerminationPeriod }, 'shutting down');
    setTimeout(() => {
      lifecycle.phase = 'draining';
      shards.stopListening();
      void (async () => {
        await shards.close();
        if (shipper !== null) {
          const shipped = await shipper.drain(config.ship.drainTimeout);
          logger.info({ shipped, left: shipper.unshippedSegments }, shipped ? 'everything shipped' : 'drain deadline passed; the rest stays in the WAL');
          await shipper.stop();
        }
        await shards.terminate();
        admin?.close();
        processMetrics.close();
        logger.info('stopped');
        process.exit(0);
      })();
    }, config.collector.preTerminationPeriod);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** A start-up failure with a message for the operator (port taken, ...): exit 1, no stack. */
class StartError extends Error {}

/**
 * Segments are only where this run's shards look: wal.dir itself with one shard, wal.dir/shard-<n>
 * with several. Segments anywhere else would never ship, so the start is refused instead.
 */
function checkShardLayout(walDir: string, shards: number): void {
  if (!existsSync(walDir) || !statSync(walDir).isDirectory()) return;
  const hasSegments = (dir: string): boolean => existsSync(dir) && readdirSync(dir).some((n) => SEGMENT_NAME.test(n));
  const stray: string[] = [];
  if (shards > 1 && hasSegments(walDir)) stray.push(walDir);
  for (const name of readdirSync(walDir)) {
    const m = /^shard-(\d+)$/.exec(name);
    if (m !== null && (shards === 1 || Number(m[1]) >= shards) && hasSegments(join(walDir, name))) stray.push(join(walDir, name));
  }
  if (stray.length > 0) {
    throw new StartError(`wal.dir holds segments of a run with another wal.shards (${stray.join(', ')}); ship them first (sluice replay ${walDir}) or set wal.shards back`);
  }
}

/** One line for an unexpected start-up failure: a file system error names its path and code. */
function startFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && typeof e.path === 'string') return `cannot use ${e.path}: ${e.code} (${e.syscall ?? 'access'})`;
  return e instanceof Error ? e.message : String(err);
}

function main(): void {
  runServer(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartError) {
      logger.fatal(err.message);
      process.stderr.write(`sluice: ${err.message}\n`);
      process.exit(1);
    }
    logger.fatal({ err }, 'failed to start');
    process.stderr.write(`sluice: failed to start: ${startFailure(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) main();
