/**
 * `node dist/server [--config FILE]`: the collector process.
 */
import { CollectorServer } from './http/collector-server';
import { CollectorService } from './http/collector-service';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config/load';
import { logger } from './ops/logger';
import { Lifecycle } from './ops/lifecycle';
import { AdminServer } from './ops/admin-server';
import { CollectorMetrics } from './ops/collector-metrics';
import { ProcessMetrics } from './ops/process-metrics';
import { RequestMetrics } from './ops/request-metrics';
import { WalMetrics } from './ops/wal-metrics';
import { ARTIFACT, VERSION } from './ops/version';
import { InlineSerializer, PoolSerializer, type RecordSerializer } from './payload/record-serializer';
import { WriteAheadLog } from './wal/write-ahead-log';
import { recordTimeMs } from './payload/record-time';
import { startShipper } from './ship/start-shipper';

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
  // uWS must be loaded after the environment is final.
  const uws = await import('uWebSockets.js');
  const syncDelay = Number(process.env['SLUICE_FAULT_SYNC_DELAY_MS'] ?? '0');
  // Fault injection for tests: block the event loop for this long every 1.5 s.
  const loopBlock = Number(process.env['SLUICE_FAULT_LOOP_BLOCK_MS'] ?? '0');
  if (loopBlock > 0) {
    setInterval(() => {
      const until = Date.now() + loopBlock;
      while (Date.now() < until) { /* busy */ }
    }, 1500).unref();
  }
  const walMetrics = new WalMetrics();
  const processMetrics = new ProcessMetrics();
  const w = config.wal;
  const shipIntervalMs = config.ship.intervalSeconds * 1000;
  // The open segment rolls early enough for its upload to finish within the ship interval.
  const rollAgeMs = config.ship.enabled ? Math.min(w.maxSegmentAge, shipIntervalMs - Math.min(5000, shipIntervalMs * 0.2)) : w.maxSegmentAge;
  const sink = openWal({
    dir: w.dir, durability: w.durability, segmentBytes: w.segmentBytes, maxSegmentAgeMs: rollAgeMs,
    maxPendingRecords: w.maxPendingRecords, maxUnshippedBytes: w.maxUnshippedBytes, minFreeBytes: w.minFreeBytes,
    maxSyncLatencyMs: w.maxSyncLatency, syncDelayMs: () => syncDelay, log: logger, observer: walMetrics, eventTimeOf: recordTimeMs,
  });
  // Marks the WAL as in use, so `sluice replay` refuses to ship it under a running collector.
  const pidFile = join(w.dir, 'collector.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  process.on('exit', () => { try { rmSync(pidFile, { force: true }); } catch { /* best effort */ } });
  const shipper = config.ship.enabled ? startShipper(config, sink, logger, (why) => {
    const hint = config.s3.endpoint === null ? ` (embedded S3 on port ${config.s3.embeddedPort}, dir ${config.s3.embeddedDir}: set SLUICE_EMBEDDED_S3_PORT or SLUICE_S3_ENDPOINT)` : '';
    logger.fatal({ why }, `cannot ship${hint}; acknowledged events stay in the WAL`);
    process.stderr.write(`sluice: ${why}${hint}\n`);
    process.exit(1);
  }) : null;
  const lifecycle = new Lifecycle(sink, shipper, { maxLagMs: config.ship.maxLag, maxEventLoopDelayMs: config.admin.maxEventLoopDelay }, () => processMetrics.lastSecondMaxDelayMs);
  const requestMetrics = new RequestMetrics(config.collector.paths);
  const metrics = new CollectorMetrics({ requests: requestMetrics, walMetrics, wal: sink, shipper, process: processMetrics, lifecycle });
  const service = new CollectorService(config.collector, lifecycle);
  const recordContext = {
    collector: `${ARTIFACT}-${VERSION}-${sink.name}`,
    limits: { maxBytes: w.maxRecordBytes, maxPayloadSize: config.collector.networking.maxPayloadSize },
    processor: { artifact: ARTIFACT, version: VERSION },
  };
  const serializer: RecordSerializer = w.serializer === 'pool'
    ? new PoolSerializer(recordContext, { threads: w.serializerThreads, batch: w.serializerBatch, maxQueuedJobs: w.serializerMaxQueuedJobs })
    : new InlineSerializer(recordContext);
  const server = new CollectorServer({
    config: config.collector,
    service,
    serializer,
    sink,
    uws,
    onError: (err) => logger.error({ err }, 'request handler failed'),
    observer: requestMetrics,
  });
  let adminPort: number | null = null;
  const admin = config.admin.enabled ? new AdminServer(metrics, lifecycle, (err) => logger.error({ err }, 'admin request failed')) : null;
  if (admin !== null) {
    try {
      adminPort = await admin.listen(config.admin.interface, config.admin.port);
    } catch (e) {
      throw new StartError(`cannot listen on the admin port ${config.admin.interface}:${config.admin.port}: ${(e as Error).message} (set SLUICE_ADMIN_PORT or admin.port)`);
    }
  }
  const port = await server.listen(config.collector.interface, config.collector.port).catch((e: unknown) => {
    throw new StartError(`${(e as Error).message} (set SLUICE_PORT or collector.port)`);
  });
  lifecycle.phase = 'serving';
  logger.info({ port, adminPort, adminInterface: admin === null ? null : config.admin.interface, version: VERSION, walDir: w.dir, durability: w.durability, serializer: w.serializer, instanceId: sink.instanceId, shipping: config.ship.enabled }, 'listening');

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
      server.stopListening();
      const waitForRequests = (): void => {
        if (server.inFlight() > 0) {
          setTimeout(waitForRequests, 20);
          return;
        }
        void (async () => {
          await serializer.close();
          await sink.close();
          if (shipper !== null) {
            const shipped = await shipper.drain(config.ship.drainTimeout);
            logger.info({ shipped, left: shipper.unshippedSegments }, shipped ? 'everything shipped' : 'drain deadline passed; the rest stays in the WAL');
            await shipper.stop();
          }
          server.close();
          admin?.close();
          processMetrics.close();
          logger.info('stopped');
          process.exit(0);
        })();
      };
      waitForRequests();
    }, config.collector.preTerminationPeriod);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** A start-up failure with a message for the operator (port taken, ...): exit 1, no stack. */
class StartError extends Error {}

/** Opens the WAL; a directory that cannot be used is a clear start-up error. */
function openWal(opts: Parameters<typeof WriteAheadLog.open>[0]): WriteAheadLog {
  try {
    return WriteAheadLog.open(opts);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string') throw new StartError(`cannot use the WAL directory ${opts.dir} (wal.dir, SLUICE_WAL_DIR): ${err.code} ${err.message}`);
    throw e;
  }
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
    process.exit(1);
  });
}

if (require.main === module) main();
