#!/usr/bin/env node
// Soak: a steady load (autocannon at a fixed rate, pixel GETs with a realistic query) against a
// real collector shipping to its embedded S3, sampling RSS, p99 latency, WAL backlog and shipping
// lag every second from the admin port's /status.json. They must stay flat: after a warm-up, the
// last third of the run is compared with the first third.
//
//   node bench/soak.js                      # 10 minutes at 2,000 requests/s
//   node bench/soak.js --seconds 45 --rate 1500 --ship-interval 5 --p99-slack-ms 25   # the CI version (test/soak.test.ts)
//
// Writes bench/results/soak-<time>.json (every sample) and prints a Markdown summary; exit 1 when
// a figure is not flat, an answer is not 2xx, or a request errs.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { freePort } = require('./harness/lib');

const ROOT = path.join(__dirname, '..');
const { options } = require('./harness/cli');
const opts = options('node bench/soak.js [options]: a steady load against a shipping collector; fails when a figure is not flat', {
  seconds: { kind: 'number', default: 600, help: 'seconds of load' },
  rate: { kind: 'number', default: 2000, help: 'requests per second' },
  'ship-interval': { kind: 'number', default: 60, help: 'SLUICE_SHIP_INTERVAL_S of the collector' },
  'p99-slack-ms': { kind: 'number', default: 5, help: 'p99 growth allowed beyond 2x (ms)' },
  out: { kind: 'string', default: path.join(ROOT, 'bench', 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), help: 'where the samples go' },
});
const SECONDS = opts.seconds;
const RATE = opts.rate;
const SHIP_INTERVAL = opts.shipInterval;
const OUT = opts.out;

// Flatness bounds: the last third against the first third (after a 20% warm-up).
const RSS_GROWTH_MAX = 1.25;       // median RSS at most 25% higher (plus 24 MiB of slack)
const RSS_SLACK = 24 * 1024 * 1024;
const P99_GROWTH_MAX = 2;          // median p99 at most 2× (plus 5 ms of slack)
const P99_SLACK_MS = opts.p99SlackMs;
const BACKLOG_GROWTH_MAX = 1.5;    // the backlog's peak at most 1.5× (plus 2 MiB): shipping keeps up


async function getJson(port, p) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return r.json();
}

async function waitHealthy(port, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) return; } catch { /* not yet */ }
    if (Date.now() > until) throw new Error('the collector did not become healthy');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-soak-'));
  const [port, admin] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js')], {
    env: { ...process.env, SLUICE_PORT: String(port), SLUICE_ADMIN_PORT: String(admin), SLUICE_WAL_DIR: path.join(dir, 'wal'), SLUICE_EMBEDDED_S3_DIR: path.join(dir, 's3'), SLUICE_EMBEDDED_S3_PORT: '0', SLUICE_SHIP_INTERVAL_S: String(SHIP_INTERVAL), SLUICE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let crashed = false;
  child.on('exit', (code, sig) => { if (!stopping) { crashed = true; console.error(`collector exited during the soak: ${code ?? sig}`); } });
  let stopping = false;
  await waitHealthy(port);

  const query = 'e=pv&url=https%3A%2F%2Fwww.acme.com%2Fproducts%2Fwidgets%3Futm_source%3Dnewsletter%26utm_medium%3Demail&page=Widgets%20%E2%80%94%20Acme&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.24.0&tna=sp1&aid=acme-web&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&vp=1280x720&ds=1280x3200&vid=3&sid=1f6b1f0a-3c9c-4a83-9d7e-2a1b2c3d4e5f&duid=8c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f&dtm=1700000000000&stm=1700000000001&eid=';
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`, connections: 32, duration: SECONDS, overallRate: RATE,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/i?${query}${Math.random().toString(36).slice(2)}` }) }],
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'accept-language': 'en-GB,en;q=0.9', referer: 'https://www.acme.com/products/widgets', cookie: 'sp=6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' },
  });
  const samples = [];
  const t0 = Date.now();
  const sampler = setInterval(async () => {
    try {
      const s = await getJson(admin, '/status.json');
      samples.push({ t: (Date.now() - t0) / 1000, rss: s.rssBytes, p99: s.latencyMs.p99, backlog: s.walBacklogBytes, lag: s.shippingLagMs, acknowledged: s.acknowledged, healthy: s.healthy });
    } catch (e) { samples.push({ t: (Date.now() - t0) / 1000, error: e.message }); }
  }, 1000);
  const result = await instance;
  clearInterval(sampler);
  const status = await getJson(admin, '/status.json');
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
  stopping = true;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });

  const ok = samples.filter((s) => s.error === undefined);
  const warm = ok.filter((s) => s.t >= SECONDS * 0.2);
  const third = Math.max(1, Math.floor(warm.length / 3));
  const first = warm.slice(0, third);
  const last = warm.slice(-third);
  const f = {
    rss: [median(first.map((s) => s.rss)), median(last.map((s) => s.rss))],
    p99: [median(first.map((s) => s.p99)), median(last.map((s) => s.p99))],
    backlog: [Math.max(...first.map((s) => s.backlog)), Math.max(...last.map((s) => s.backlog))],
    lagMax: Math.max(...ok.map((s) => s.lag ?? 0)),
  };
  const checks = [
    ['no crash', !crashed],
    ['every answer 2xx, no errors', result.non2xx === 0 && result.errors === 0 && result.timeouts === 0],
    ['samples every second', ok.length >= SECONDS * 0.8],
    [`RSS flat (last third ≤ ${RSS_GROWTH_MAX}× first + 24 MiB)`, f.rss[1] <= f.rss[0] * RSS_GROWTH_MAX + RSS_SLACK],
    [`p99 flat (last third ≤ ${P99_GROWTH_MAX}× first + ${P99_SLACK_MS} ms)`, f.p99[1] <= f.p99[0] * P99_GROWTH_MAX + P99_SLACK_MS],
    [`WAL backlog flat (peak ≤ ${BACKLOG_GROWTH_MAX}× first third's + 2 MiB)`, f.backlog[1] <= f.backlog[0] * BACKLOG_GROWTH_MAX + 2 * 1024 * 1024],
    ['shipping lag within 2 ship intervals + 10 s', f.lagMax <= (2 * SHIP_INTERVAL + 10) * 1000],
    ['healthy throughout', ok.every((s) => s.healthy)],
  ];
  const summary = {
    seconds: SECONDS, rate: RATE, shipIntervalS: SHIP_INTERVAL, requests: result.requests.total, rps: result.requests.average, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
    acknowledged: status.acknowledged, peakRssBytes: peakRss, figures: f, checks: checks.map(([name, pass]) => ({ name, pass })), passed: checks.every(([, p]) => p),
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ summary, samples }, null, 1));
  const mib = (b) => (b / 1048576).toFixed(1);
  console.log(`## Soak: ${SECONDS} s at ${RATE} requests/s (ship every ${SHIP_INTERVAL} s)\n`);
  console.log('| figure | first third | last third |\n|---|---|---|');
  console.log(`| RSS (MiB, median) | ${mib(f.rss[0])} | ${mib(f.rss[1])} |`);
  console.log(`| p99 latency (ms, median) | ${f.p99[0].toFixed(2)} | ${f.p99[1].toFixed(2)} |`);
  console.log(`| WAL backlog (MiB, peak) | ${mib(f.backlog[0])} | ${mib(f.backlog[1])} |`);
  console.log(`\n${summary.requests} requests (${Math.round(summary.rps)}/s), ${summary.non2xx} non-2xx, ${summary.errors} errors; peak RSS ${mib(peakRss)} MiB; max shipping lag ${(f.lagMax / 1000).toFixed(1)} s\n`);
  for (const c of summary.checks) console.log(`- ${c.pass ? 'pass' : 'FAIL'}: ${c.name}`);
  console.log(`\nsamples: ${OUT}`);
  process.exit(summary.passed ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
