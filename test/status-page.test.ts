// The status page in headless Chromium (Debian's chromium, driven by playwright-core): under load
// from autocannon it shows real, changing numbers from the running collector. The screenshot is
// kept in test/artifacts/status-page.png.
import t from 'tap';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { chromium } from 'playwright-core';
import { serverPool, ROOT } from './helpers/server';

const server = serverPool(t);
/** Debian's chromium (scripts/test.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';

t.test('the status page renders live figures under load', async (t) => {
  const s = await server({ ship: { enabled: false } });
  const load = autocannon({ url: `http://127.0.0.1:${s.port}/i?e=pv&aid=status-test`, connections: 8, duration: 8 }, () => undefined);
  t.teardown(() => load.stop());
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${s.adminPort}/status`);
  // Two polls are needed for a rate; wait for a positive one.
  await page.waitForFunction(() => Number(document.getElementById('rate')?.textContent) > 0, undefined, { timeout: 15_000, polling: 200 });
  await page.waitForTimeout(3000); // a few more points on the charts
  const shown = await page.evaluate(() => ({
    rate: Number(document.getElementById('rate')!.textContent),
    p99: Number(document.getElementById('p99')!.textContent),
    backlog: Number(document.getElementById('backlog')!.textContent),
    lag: document.getElementById('lag')!.textContent,
    health: document.getElementById('health')!.textContent,
    acknowledged: Number(document.getElementById('t-ack')!.textContent),
    checks: document.getElementById('checks')!.querySelectorAll('tr').length,
    // A chart with data has painted pixels beyond its axes.
    painted: (() => {
      const c = document.getElementById('c-rate') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let coloured = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && d[i + 2]! > 150 && d[i]! < 60) coloured++;
      return coloured;
    })(),
  }));
  const dir = join(ROOT, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const shot = join(dir, 'status-page.png');
  await page.screenshot({ path: shot, fullPage: true });

  // The same figures from the collector itself, read after the page's.
  const status = (await (await fetch(`http://127.0.0.1:${s.adminPort}/status.json`)).json()) as { acknowledged: number; latencyMs: { p99: number } };
  t.ok(shown.rate > 100, `records/s under load: ${shown.rate}`);
  t.ok(shown.p99 > 0 && shown.p99 < 10_000, `p99 in ms: ${shown.p99}`);
  t.ok(shown.backlog > 0, `WAL backlog MiB: ${shown.backlog}`);
  t.equal(shown.lag, 'shipping off');
  t.equal(shown.health, 'healthy');
  t.ok(shown.acknowledged > 0 && shown.acknowledged <= status.acknowledged, `acknowledged ${shown.acknowledged} (collector now: ${status.acknowledged})`);
  t.equal(shown.checks, 3, 'one row per health check (phase, wal, event loop; shipping is off: no s3 or lag)');
  t.ok(shown.painted > 50, `the rate chart is drawn (${shown.painted} line pixels)`);
  t.same(pageErrors, [], 'no script errors');
  t.ok(statSync(shot).size > 10_000, `screenshot kept: ${shot}`);
});
