#!/usr/bin/env node
/** `sluice <command>`: the collector and the operator tools. */
import { operatorLine } from './config/errors';
import { ConfigError } from './config/load';
import { versionLine } from './ops/version';
import { runServer } from './server';
import { CliError } from './tools/cli-error';
import { runConsolidate } from './tools/consolidate';
import { runInspect } from './tools/inspect';
import { runReplay } from './tools/replay';

const USAGE = `Usage: sluice <command> [options]

Commands:
  server     run the collector (same as node dist/server)
  replay     ship what a WAL directory holds (after a crash, or from a dead instance's volume)
  consolidate  merge an hour's .lzo files of every instance into one splittable LZO
  inspect    decode a WAL segment, .lzo or .gz file to JSON lines; --verify checks it

Run sluice <command> --help for a command's options; sluice --version for the version.`;

// A reader that goes away (`sluice inspect f | head`) ends the output, not the command: replay
// and consolidate finish their uploads, inspect its checks, with the same exit code.
let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutClosed = true;
});
const out = (line: string): void => {
  if (!stdoutClosed) process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      await runServer(rest);
      return -1;
    case 'replay':
      return runReplay(rest, out);
    case 'inspect':
      return runInspect(rest, out);
    case 'consolidate':
      return runConsolidate(rest, out);
    case '--version':
    case '-V':
      out(versionLine());
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, (err: unknown) => {
  // One line with the error's code; SLUICE_DEBUG=1 adds where it came from.
  process.stderr.write(`sluice: ${operatorLine(err)}\n`);
  if (process.env['SLUICE_DEBUG'] === '1' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
  process.exit(err instanceof CliError ? err.exitCode : err instanceof ConfigError ? 2 : 1);
});
