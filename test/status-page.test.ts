// The status page in headless Chromium (Debian's chromium, driven by playwright-core): under load
// from autocannon it shows real, changing numbers from the running collector, its charts start
// from the server's history (samples from before the page was opened), and refused requests show
// on the non-2xx chart. The screenshot is kept in test/artifacts/status-page.png.
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
  const s = await server({ ship: { enabled: false }, collector: { networking: { maxPayloadSize: 1000, dropPayloadSize: 1000 } } });
  const load = autocannon({ url: `http://127.0.0.1:${s.port}/i?e=pv&aid=status-test`, connections: 8, duration: 14 }, () => undefined);
  t.teardown(() => load.stop());
  // Bodies past dropPayloadSize: 413s, one every 50 ms for the non-2xx chart.
  const big = 'x'.repeat(2000);
  let refused = 0;
  const refusals = setInterval(() => {
    void fetch(`http://127.0.0.1:${s.port}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', body: big, headers: { 'Content-Type': 'application/json' } })
      .then((r) => { if (r.status === 413) refused++; }, () => undefined);
  }, 50);
  t.teardown(() => clearInterval(refusals));
  // The page opens after 5 s of traffic: its charts must show those seconds too.
  await new Promise((r) => setTimeout(r, 5000));
  const openedAt = Date.now();
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
    non2xx: Number(document.getElementById('non2xx')!.textContent),
    errorsSinceStart: document.getElementById('t-errors')!.textContent,
    // The page's samples (a top-level binding of its script).
    firstSampleAt: (globalThis as unknown as { eval(code: string): number }).eval('samples[0].at'),
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
  t.ok(shown.firstSampleAt < openedAt - 3000, `the charts start ${Math.round((openedAt - shown.firstSampleAt) / 1000)} s before the page was opened (server-side history)`);
  t.ok(shown.non2xx > 0, `non-2xx answers per second shown: ${shown.non2xx}`);
  const [, , s413] = /^(\d+) \/ (\d+) \//.exec(shown.errorsSinceStart ?? '') ?? [];
  t.ok(refused > 0 && Number(s413) > 0 && Number(s413) <= refused, `413s since start on the page: ${s413} (${refused} refused so far)`);
  t.same(pageErrors, [], 'no script errors');
  t.ok(statSync(shot).size > 10_000, `screenshot kept: ${shot}`);
});
