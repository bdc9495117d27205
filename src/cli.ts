#!/usr/bin/env node
/** `sluice <command>`: the collector and the operator tools. */
import { ConfigError } from './config/load';
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

Run sluice <command> --help for a command's options.`;

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
  if (err instanceof CliError || err instanceof ConfigError) {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 2);
  }
  // Anything else is still one line; SLUICE_DEBUG=1 shows where it came from.
  const e = err as NodeJS.ErrnoException;
  const what = typeof e.code === 'string' && typeof e.path === 'string' ? `${e.code} on ${e.path}` : e instanceof Error ? e.message : String(err);
  process.stderr.write(`sluice: ${what}\n`);
  if (process.env['SLUICE_DEBUG'] === '1') process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
  process.exit(1);
});
