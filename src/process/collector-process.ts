/**
 * The collector process, start to stop: takes the WAL directory, opens the shards (one on this
 * thread, or HTTP worker processes), starts the shipper thread and the admin port, serves, and on
 * SIGTERM or SIGINT runs the shutdown in order: unhealthy for preTerminationPeriod, stop
 * accepting, answer what is in flight, seal and sync every shard, ship until ship.drainTimeoutMs,
 * exit 0. A fatal problem (a worker or the shipper gone) seals what it can and exits 1.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { operatorLine, StartError } from '../config/errors';
import { loadConfig } from '../config/load';
import { testHooks } from '../config/test-hooks';
import type { SluiceConfig } from '../config/types';
import { AdminHostPolicy } from '../ops/admin-host';
import { AdminServer } from '../ops/admin-server';
import { CollectorMetrics } from '../ops/collector-metrics';
import { Lifecycle } from '../ops/lifecycle';
import { logger } from '../ops/logger';
import { ProcessMetrics } from '../ops/process-metrics';
import { VERSION } from '../ops/version';
import { startShipper } from '../ship/start-shipper';
import { RollPolicy } from '../wal/roll-policy';
import { PID_FILE, SEGMENT_NAME, SHARD_DIR_NAME } from '../wal/wal-files';
import { WalLock, WalLockedError } from '../wal/wal-lock';
import { CollectorShard, sinkHolders, WalOpenError } from './collector-shard';
import { startStreamSink } from './stream-sink';
import { HttpWorkers, WorkerStartError } from './http-workers';
import { planReload, reloadedConfig } from './reload';
import { LocalShards, type ShardSet } from './shard-set';

/** Bound on the fatal path: workers close their sockets and seal their shards first, this long at most. */
const FATAL_CLOSE_MS = 3000;

/** `configFile`: read again on SIGHUP (null: the defaults, nothing to reload). */
export async function runCollector(config: SluiceConfig, configFile: string | null = null): Promise<void> {
  if (config.wal.durability === 'none') {
    logger.warn('DURABILITY NONE: events are acknowledged before they are on disk and can be lost; for benchmarks only');
  }
  startLoopBlockHook();
  const w = config.wal;
  const rollAgeMs = RollPolicy.rollAgeMs(w.maxSegmentAgeMs, config.ship.enabled, config.ship.intervalSeconds * 1000);
  takeWalDirectory(w.dir);
  checkShardLayout(w.dir, w.shards);
  const processMetrics = new ProcessMetrics();
  const maxLoopMs = config.admin.maxEventLoopDelayMs;
  const lifecycle = new Lifecycle({ maxLagMs: config.ship.maxLagMs, maxEventLoopDelayMs: maxLoopMs });
  let shards: ShardSet | null = null;
  let dying = false;
  const fatal = (why: string): void => {
    if (dying) return;
    dying = true;
    logger.fatal({ why }, 'stopping: acknowledged events stay in the WAL');
    process.stderr.write(`sluice: ${why}\n`);
    const open = shards;
    void Promise.race([open === null ? Promise.resolve() : open.close().then(() => open.terminate()), new Promise((r) => setTimeout(r, FATAL_CLOSE_MS))])
      .finally(() => process.exit(1));
  };
  try {
    shards = w.shards === 1
      ? new LocalShards(new CollectorShard({ config, walDir: w.dir, rollAgeMs, health: lifecycle, holders: sinkHolders(config) }), processMetrics.loop)
      : await HttpWorkers.open(config, w.shards, rollAgeMs, fatal);
  } catch (e) {
    if (e instanceof WalOpenError || e instanceof WorkerStartError) throw new StartError(e.message);
    throw e;
  }
  const set = shards;
  const shipper = config.ship.enabled ? startShipper(config, set.segments, logger, (why) => {
    const hint = config.s3.endpoint === null ? ` (embedded S3 on port ${config.s3.embeddedPort}, dir ${config.s3.embeddedDir}: set SLUICE_EMBEDDED_S3_PORT or SLUICE_S3_ENDPOINT)` : '';
    fatal(`cannot ship: ${why}${hint}`);
  }) : null;
  const stream = startStreamSink(config, set, fatal);
  lifecycle.attach({
    walRefusal: () => set.walRefusal(),
    sinkHealthy: () => set.sinkHealthy() && (stream?.problem() ?? null) === null,
    loopDelayMs: () => Math.max(set.loopDelayMs(), processMetrics.loop.lastSecondMaxDelayMs),
  }, shipper, stream);
  if (set instanceof HttpWorkers) set.startHealthPush(() => lifecycle.checks(), maxLoopMs);
  const metrics = new CollectorMetrics({ shards: () => set.snapshots(), shipper, stream, process: processMetrics, lifecycle });
  let adminPort: number | null = null;
  const admin = config.admin.enabled ? new AdminServer(metrics, lifecycle, new AdminHostPolicy(config.admin.interface, config.admin.allowedHosts), (err) => logger.error({ err }, 'admin request failed'), config.admin.statusHistorySeconds) : null;
  if (admin !== null) {
    try {
      adminPort = await admin.listen(config.admin.interface, config.admin.port);
    } catch (e) {
      throw new StartError(`cannot listen on the admin port ${config.admin.interface}:${config.admin.port}: ${(e as Error).message} (set SLUICE_ADMIN_PORT or admin.port)`);
    }
  }
  const port = await set.listen(config.collector.interface, config.collector.port).catch((e: unknown) => {
    throw new StartError(`${(e as Error).message} (set SLUICE_PORT or collector.port)`);
  });
  lifecycle.phase = 'serving';
  logger.info({ port, adminPort, adminInterface: admin === null ? null : config.admin.interface, version: VERSION, walDir: w.dir, shards: set.count, durability: w.durability, serializer: w.serializer, instanceIds: set.instanceIds, shipping: config.ship.enabled }, 'listening');

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
      set.stopListening();
      void (async () => {
        await set.close();
        // Both sinks drain at once, within the one deadline.
        await Promise.all([
          shipper === null ? null : shipper.drain(config.ship.drainTimeoutMs).then(async (shipped) => {
            logger.info({ shipped, left: shipper.unshippedSegments }, shipped ? 'everything shipped' : 'drain deadline passed; the rest stays in the WAL');
            await shipper.stop();
          }),
          stream === null ? null : stream.drain(config.ship.drainTimeoutMs).then(async (put) => {
            logger.info({ put, lagBytes: stream.stats?.lagBytes ?? null }, put ? 'everything put into the stream' : 'stream drain deadline passed; the rest stays in the WAL');
            await stream.stop();
          }),
        ]);
        await set.terminate();
        admin?.close();
        processMetrics.close();
        logger.info('stopped');
        process.exit(0);
      })();
    }, config.collector.preTerminationPeriod);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // SIGHUP reloads what can change safely; a file that does not validate changes nothing.
  let running = config;
  let reloading = false;
  process.on('SIGHUP', () => {
    if (reloading || stopping) return;
    reloading = true;
    void loadConfig(configFile).then(({ config: next }) => {
      const plan = planReload(running, next);
      running = reloadedConfig(running, next);
      set.reload(running.collector);
      lifecycle.setBounds({ maxLagMs: running.ship.maxLagMs, maxEventLoopDelayMs: running.admin.maxEventLoopDelayMs });
      logger.info({ file: configFile, applied: plan.applied, needRestart: plan.needRestart }, plan.applied.length + plan.needRestart.length === 0 ? 'reload: nothing changed' : 'reloaded');
    }, (err: unknown) => {
      logger.error({ file: configFile, err: operatorLine(err) }, 'reload refused: the running configuration is kept');
    }).finally(() => { reloading = false; });
  });
}

/**
 * Takes the WAL directory before anything in it is read or changed (a second collector on a live
 * WAL would otherwise recover, and delete, the running one's open segment and spares), and writes
 * the pid file for operators' scripts, removed at exit only while it still names this process.
 */
function takeWalDirectory(dir: string): void {
  let lock: WalLock;
  try {
    lock = WalLock.acquire(dir, 'collector');
  } catch (e) {
    if (e instanceof WalLockedError) throw new StartError(`cannot start: ${e.message}`);
    throw e;
  }
  const pidFile = join(dir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`);
  process.on('exit', () => {
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
    } catch { /* absent or unreadable: not ours to remove */ }
    lock.release();
  });
}

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
    const m = SHARD_DIR_NAME.exec(name);
    if (m !== null && (shards === 1 || Number(m[1]) >= shards) && hasSegments(join(walDir, name))) stray.push(join(walDir, name));
  }
  if (stray.length > 0) {
    throw new StartError(`wal.dir holds segments of a run with another wal.shards (${stray.join(', ')}); ship them first (sluice replay ${walDir}) or set wal.shards back`);
  }
}

/** The stall fault of the reliability tests (testHooks.loopBlockMs): none in production. */
function startLoopBlockHook(): void {
  const ms = testHooks.loopBlockMs;
  if (ms <= 0) return;
  setInterval(() => {
    const until = Date.now() + ms;
    while (Date.now() < until) { /* busy */ }
  }, 1500).unref();
}
