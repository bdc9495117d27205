/**
 * `node dist/server [--config FILE]`: the composition root. Reads the arguments and the
 * configuration, then hands over to the collector process (src/process/collector-process.ts).
 */
import { codeOf, operatorLine, StartError } from './config/errors';
import { ConfigError, loadConfig } from './config/load';
import { logger } from './ops/logger';
import { versionLine } from './ops/version';
import { runCollector } from './process/collector-process';

const USAGE = `Usage: node dist/server [--config FILE]
       sluice server [--config FILE]

Starts the Sluice collector.

Options:
  --config FILE   HOCON or JSON configuration (SSC keys inside collector { }, Sluice's own
                  sections wal, ship, s3, admin beside it)
  --check         validate the configuration, print the keys without effect and the
                  effective settings as JSON, and exit (0 when valid, 2 naming the bad key)
  --version       print the version, the commit it was built from and the Node version
  --help          show this help

Environment overrides: SLUICE_PORT (8080), SLUICE_ADMIN_PORT (9090), SLUICE_WAL_DIR (./data/wal),
SLUICE_S3_ENDPOINT (unset: embedded S3 in SLUICE_EMBEDDED_S3_DIR, ./data/s3), SLUICE_S3_BUCKET
(sluice-raw), SLUICE_S3_PREFIX (raw), SLUICE_SHIP_INTERVAL_S (60), SLUICE_DURABILITY (fsync|none),
SLUICE_LOG_LEVEL (info). Every setting: docs/configuration.md.`;

export interface ServerArgs { configFile: string | null; check: boolean }

export function parseServerArgs(argv: readonly string[]): ServerArgs | 'help' | 'version' {
  let configFile: string | null = null;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version' || a === '-V') return 'version';
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
  if (args === 'version') {
    process.stdout.write(`${versionLine()}\n`);
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
  await runCollector(config, args.configFile);
}

function main(): void {
  runServer(process.argv.slice(2)).catch((err: unknown) => {
    const line = operatorLine(err);
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${line}\n`);
      process.exit(2);
    }
    logger.fatal({ err, code: codeOf(err) }, err instanceof StartError ? line : 'failed to start');
    process.stderr.write(`sluice: ${err instanceof StartError ? line : `failed to start: ${line}`}\n`);
    process.exit(1);
  });
}

if (require.main === module) main();
