#!/usr/bin/env node
/** `sluice <command>`: server, and the operator tools as they land. */
import { ConfigError } from './config/load';
import { runServer } from './server';

const USAGE = `Usage: sluice <command> [options]

Commands:
  server     run the collector (same as node dist/server)

Run sluice <command> --help for a command's options.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      await runServer(rest);
      return -1;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`sluice: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
