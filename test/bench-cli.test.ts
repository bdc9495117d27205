// bench/harness/cli.js: the one option style of the bench scripts. A typo or a bad number must
// stop the script (exit 2) rather than run a default benchmark and report the wrong thing.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const CLI = path.join(__dirname, '..', 'bench', 'harness', 'cli.js');
const SPEC = `{ conns: { kind: 'numbers', default: '64 512', help: 'c' }, seconds: { kind: 'number', default: 10, help: 's' },
  'ship-interval': { kind: 'number', default: 60, help: 'i' }, servers: { kind: 'list', default: 'a b', help: 'v' }, write: { kind: 'flag', help: 'w' } }`;

function run(...args: string[]): { status: number | null; out: string; err: string } {
  const code = `console.log(JSON.stringify(require(${JSON.stringify(CLI)}).options('usage line', ${SPEC}, process.argv.slice(1))))`;
  const r = spawnSync(process.execPath, ['-e', code, '--', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

t.test('defaults and camelCase names', async (t) => {
  const r = run();
  t.equal(r.status, 0);
  t.same(JSON.parse(r.out), { conns: [64, 512], seconds: 10, shipInterval: 60, servers: ['a', 'b'], write: false });
});

t.test('values: numbers, lists (space or comma), flags, an empty list', async (t) => {
  const r = run('--conns', '128,256', '--seconds', '2.5', '--ship-interval', '5', '--servers', 'nginx  sluice', '--write');
  t.equal(r.status, 0, r.err);
  t.same(JSON.parse(r.out), { conns: [128, 256], seconds: 2.5, shipInterval: 5, servers: ['nginx', 'sluice'], write: true });
  t.same(JSON.parse(run('--conns', '').out).conns, [], '"" is an empty list (run.js --rates "" skips the fixed rates)');
});

t.test('refused: unknown option, a word for a number, a positional', async (t) => {
  for (const args of [['--secnds', '2'], ['--seconds', 'ten'], ['--conns', '64 x'], ['extra']]) {
    const r = run(...args);
    t.equal(r.status, 2, `${args.join(' ')} exits 2`);
    t.match(r.err, /usage line/, 'with the usage');
    t.equal(r.out, '', 'and nothing run');
  }
});

t.test('--help lists every option with its default and exits 0', async (t) => {
  const r = run('--help');
  t.equal(r.status, 0);
  t.match(r.out, /--conns <list>\n\s+c \(default: "64 512"\)/);
  t.match(r.out, /--ship-interval <number>/);
  t.match(r.out, /--write\n\s+w\n/);
});
