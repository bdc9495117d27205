// The CI soak: bench/soak.js for 45 s at 1,500 requests/s against a collector shipping every 5 s.
// RSS, p99 and the WAL backlog must stay flat, every answer must be 2xx, the process must not
// crash. (The 10-minute soak is `node bench/soak.js`; its figures are in docs/RELIABILITY.md.)
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordScenario } from './helpers/reliability';
import { ROOT } from './helpers/server';

interface SoakSummary {
  seconds: number; rate: number; requests: number; non2xx: number; errors: number; acknowledged: number; peakRssBytes: number; passed: boolean;
  figures: { rss: [number, number]; p99: [number, number]; backlog: [number, number]; lagMax: number };
  checks: Array<{ name: string; pass: boolean }>;
}

t.test('a short soak stays flat', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'sluice-soak-test-')), 'soak.json');
  const seconds = Number(process.env['SLUICE_SOAK_SECONDS'] ?? 45);
  const code = await new Promise<number | null>((resolve) => {
    // In CI the soak shares the machine with the other test files, whose load comes and goes: p99
    // gets 25 ms of slack instead of 5 (RSS and backlog bounds are the 10-minute run's).
    const p = spawn(process.execPath, [join(ROOT, 'bench', 'soak.js'), '--seconds', String(seconds), '--rate', '1500', '--ship-interval', '5', '--p99-slack-ms', '25', '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', resolve);
  });
  const { summary } = JSON.parse(readFileSync(out, 'utf8')) as { summary: SoakSummary };
  for (const c of summary.checks) t.ok(c.pass, c.name);
  t.equal(code, 0, 'bench/soak.js passed');
  t.ok(summary.requests >= seconds * 1500 * 0.9, `${summary.requests} requests sent`);
  const mib = (b: number): string => (b / 1048576).toFixed(1);
  recordScenario({
    id: 'soak-ci', group: 'soak', title: `Soak: ${seconds} s at 1,500 requests/s, shipping every 5 s (CI version of bench/soak.js)`,
    acknowledged: summary.acknowledged, crashes: summary.checks.find((c) => c.name === 'no crash')?.pass === false ? 1 : 0, peakRssBytes: summary.peakRssBytes,
    notes: `RSS ${mib(summary.figures.rss[0])}→${mib(summary.figures.rss[1])} MiB, p99 ${summary.figures.p99[0].toFixed(1)}→${summary.figures.p99[1].toFixed(1)} ms, backlog peak ${mib(summary.figures.backlog[0])}→${mib(summary.figures.backlog[1])} MiB (first → last third); ${summary.non2xx} non-2xx, ${summary.errors} errors`,
  }, summary.passed);
});
