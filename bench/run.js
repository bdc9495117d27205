#!/usr/bin/env node
// The benchmark: Sluice beside the anchors (../shared/bench: bare uWS, the same with a buffered
// access log written from JS (uws-log) and, from bench/harness/anchor-fsync.js, that log with fsync
// acknowledgements (uws-log-fsync), nginx with the userid module and a buffered access log,
// bare node:http) in one invocation, interleaved, medians of --reps repetitions, at each of
// --conns (wrk's connections: 64, and 512 as a load balancer holds them). Server pinned to CPU 0,
// wrk (-t1) on CPU 1.
//
//   node bench/run.js [--write]          # --write: also bench/RESULTS.md
//   node bench/run.js --conns "64 512" --seconds 10 --reps 3 \
//     --servers "uws uws-log uws-log-fsync nginx node sluice sluice-loop sluice-none sluice-delay sluice-1t-2c sluice-2t-2c"
//   node bench/run.js --help
//
// Then, for uws, uws-log-fsync, nginx, node, sluice, sluice-loop and sluice-delay, in fresh processes: latency at the same offered load
// (bench/harness/fixed-rate.js, open loop, --rates requests/s for --rate-seconds after 2 s of warm-up),
// the figure the issue's p99 target compares, with the server's CPU per request at that rate and
// the share of its core it kept busy. --rates "" skips it. With them comes the floor
// that fsync acknowledgements alone put under any p99 on this disk (bench/harness/sync-floor.js).
//
// Sluice ships to an S3 of its own process (s3rver, nice 19 on the load generator's core, its files
// in /dev/shm): in production S3 is remote, and its work (HTTP parsing, MD5, writing the objects to
// disk) is not the collector's. --s3 embedded uses the embedded S3 in the shipper's thread instead.
//
// Scenarios: get (pixel, 664-byte query, browser headers), post (tp2, 3 events, 1,850 bytes),
// webhook (form POST to /com.mailgun/v1; Sluice only: the anchors do not serve it). Per server and
// scenario: requests/s, p50/p99/p99.9 latency (wrk's HdrHistogram), server CPU seconds per 100k
// requests (utime+stime of the server and its children), peak RSS (VmHWM), non-2xx and errors.
// JSON to bench/results/run-<time>.json; the Markdown table to stdout.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { options } = require('./harness/cli');

const ROOT = path.join(__dirname, '..');
const opts = options('node bench/run.js [options]: Sluice beside the anchors, at saturation and at fixed rates', {
  servers: { kind: 'list', default: 'uws uws-log-fsync nginx node sluice sluice-none', help: 'servers to run (see DEFS in bench/run.js)' },
  conns: { kind: 'numbers', default: '64 512', help: "wrk's connections, one table block per value" },
  seconds: { kind: 'number', default: 10, help: 'seconds measured per scenario' },
  warmup: { kind: 'number', default: 2, help: 'seconds of unmeasured load before each scenario' },
  reps: { kind: 'number', default: 3, help: 'interleaved repetitions (medians)' },
  rates: { kind: 'numbers', default: '5000 10000', help: 'fixed offered loads (GET req/s); "" skips them' },
  'rate-seconds': { kind: 'number', default: 15, help: 'seconds measured per fixed rate' },
  s3: { kind: 'string', default: 'remote', help: "remote (s3rver in its own process on the load core) or embedded (the shipper thread's)" },
  anchors: { kind: 'string', default: path.join(ROOT, '..', 'shared', 'bench'), help: "the anchors' folder (read, copied)" },
  'server-cpus': { kind: 'string', default: '0', help: "the server's cores (taskset list)" },
  'load-cpus': { kind: 'string', default: '1', help: "wrk's and the fixed-rate client's cores" },
  logs: { kind: 'string', help: "a folder that keeps each server's stderr" },
  write: { kind: 'flag', help: 'also rewrite the table in bench/RESULTS.md' },
});
process.env.ANCHORS_DIR = opts.anchors;
const { cpuSecondsOf, fmt, median, parseWrk, peakRssBytesOf, waitPort } = require('./harness/lib');
const SHARED = opts.anchors;
const DUR = opts.seconds;
const WARM = opts.warmup;
const REPS = opts.reps;
const SERVERS = opts.servers;
const WRITE = opts.write;
const LOAD_CPUS = opts.loadCpus;
const SERVER_CPUS = opts.serverCpus;
const CONNS_LIST = opts.conns;
const FIXED_RATES = opts.rates;
const FIXED_DUR = opts.rateSeconds;
const FIXED_SERVERS = ['uws', 'uws-log-fsync', 'nginx', 'node', 'sluice', 'sluice-loop', 'sluice-delay'].filter((n) => SERVERS.includes(n));
if (opts.s3 !== 'remote' && opts.s3 !== 'embedded') { console.error('--s3 is remote or embedded'); process.exit(2); }
const S3_MODE = opts.s3;
const S3_PORT = 8098;

for (const tool of ['wrk', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) { console.error(`missing ${tool}: apt-get install wrk nginx-light libnginx-mod-http-echo`); process.exit(2); }
}

// The anchors run from a copy (their folder is read-only here); uws-anchor.js needs `uwebsockets`,
// the same package this project depends on under the name uWebSockets.js.
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
const ANCH = path.join(WORK, 'anchors');
fs.cpSync(SHARED, ANCH, { recursive: true, filter: (src) => !/\/(node_modules|logs|results)(\/|$)/.test(src.slice(SHARED.length)) });
fs.mkdirSync(path.join(ANCH, 'node_modules'), { recursive: true });
fs.symlinkSync(path.join(ROOT, 'node_modules', 'uWebSockets.js'), path.join(ANCH, 'node_modules', 'uwebsockets'));
fs.mkdirSync(path.join(ANCH, 'logs', 'nginx-tmp'), { recursive: true });

const childrenOf = (pid) => {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').map((x) => Number(x.trim())).filter((x) => x > 0);
};

function portFree(port) {
  return new Promise((resolve) => { const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true))); });
}
const SLUICE_PORT = 8090;
// The S3 process (S3=remote): started once, emptied after every Sluice run.
const S3_DIR = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : WORK, 'sluice-bench-s3-'));
let s3Process = null;
async function startS3() {
  if (S3_MODE !== 'remote') return;
  if (!(await portFree(S3_PORT))) throw new Error(`port ${S3_PORT} (the S3) is busy`);
  const code = `require(${JSON.stringify(path.join(ROOT, 'dist', 'ship', 'embedded-s3.js'))}).startEmbeddedS3(${JSON.stringify(S3_DIR)}, ${S3_PORT})`;
  // nice 19: the load generator on that core keeps its timing (fixed-rate.js counts from due times).
  s3Process = spawn('nice', ['-n', '19', 'taskset', '-c', LOAD_CPUS, process.execPath, '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitPort(S3_PORT, 20000);
}
const emptyS3 = () => { for (const n of fs.readdirSync(S3_DIR)) fs.rmSync(path.join(S3_DIR, n), { recursive: true, force: true }); };
const s3Env = () => (S3_MODE === 'remote'
  ? { SLUICE_S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' }
  : { SLUICE_EMBEDDED_S3_DIR: path.join(WORK, 's3'), SLUICE_EMBEDDED_S3_PORT: '0' });
const sluiceDef = (durability, shards, cpus, config = 'sluice.json') => ({
  cpus,
  port: SLUICE_PORT,
  cmd: [process.execPath, path.join(ROOT, 'dist', 'server.js'), '--config', path.join(WORK, config)],
  env: { SLUICE_PORT: String(SLUICE_PORT), SLUICE_ADMIN_PORT: '0', SLUICE_WAL_DIR: path.join(WORK, 'wal'), ...s3Env(), SLUICE_DURABILITY: durability, SLUICE_LOG_LEVEL: 'warn', SLUICE_WAL_SHARDS: String(shards ?? 1) },
  webhook: true,
  cleanup: () => {
    fs.rmSync(path.join(WORK, 'wal'), { recursive: true, force: true });
    fs.rmSync(path.join(WORK, 's3'), { recursive: true, force: true });
    if (S3_MODE === 'remote') emptyS3();
  },
});
// Shipping runs (nice 10) as in production.
fs.writeFileSync(path.join(WORK, 'sluice.json'), JSON.stringify({}));
// The commit delay (off by default): a group of fewer than 16 requests waits 1 ms for company.
fs.writeFileSync(path.join(WORK, 'sluice-delay.json'), JSON.stringify({ wal: { commitDelayMs: 1 } }));
// Groups of up to 8 requests synced on the event loop while syncs are fast (off by default).
fs.writeFileSync(path.join(WORK, 'sluice-loop.json'), JSON.stringify({ wal: { loopSyncGroup: 8 } }));
const DEFS = {
  uws: { port: 8081, cmd: [process.execPath, 'uws-anchor.js'], env: { MODE: 'min', PORT: '8081' } },
  // Anchor A+log: the same uWS server with a buffered access log written from JS (no fsync): the
  // least a JS collector that keeps its requests does. Its log is deleted after each run.
  'uws-log': { port: 8081, cmd: [process.execPath, 'uws-anchor.js'], env: { MODE: 'log', PORT: '8081', LOG: path.join(ANCH, 'logs', 'uws-access.log') }, cleanup: () => fs.rmSync(path.join(ANCH, 'logs', 'uws-access.log'), { force: true }) },
  // Anchor A+log+fsync (bench/harness/anchor-fsync.js): A+log answering only after its line's fdatasync
  // (group commit, as Sluice's WAL), its log on the same disk as Sluice's WAL.
  'uws-log-fsync': { port: 8084, cmd: [process.execPath, path.join(__dirname, 'harness', 'anchor-fsync.js'), '--port', '8084', '--anchors', ANCH, '--log', path.join(ANCH, 'logs', 'fsync-access.log')], env: {}, cleanup: () => fs.rmSync(path.join(ANCH, 'logs', 'fsync-access.log'), { force: true }) },
  nginx: { port: 8082, cmd: ['nginx', '-p', `${ANCH}/`, '-c', 'nginx.conf', '-e', 'logs/nginx-error.log', '-g', 'worker_processes 1; daemon off;'], env: {}, cleanup: () => fs.rmSync(path.join(ANCH, 'logs', 'nginx-access.log'), { force: true }) },
  node: { port: 8083, cmd: [process.execPath, 'node-anchor.js'], env: { MODE: 'min', PORT: '8083' } },
  sluice: sluiceDef('fsync'),
  'sluice-none': sluiceDef('none'),
  'sluice-delay': sluiceDef('fsync', 1, undefined, 'sluice-delay.json'),
  'sluice-loop': sluiceDef('fsync', 1, undefined, 'sluice-loop.json'),
  // Threads: the server may use both cores (wrk shares core 1), 1 HTTP thread against 2.
  'sluice-1t-2c': sluiceDef('fsync', 1, '0,1'),
  'sluice-2t-2c': sluiceDef('fsync', 2, '0,1'),
};
const LABEL = {
  uws: 'uWS ceiling (anchor A)', 'uws-log': 'uWS + buffered access log in JS, no fsync (anchor A+log)', 'uws-log-fsync': 'uWS + JS access log, fsync acks (A+log+fsync, bench/harness/anchor-fsync.js)', nginx: 'nginx 1 worker + access log (anchor B)', node: 'node:http (anchor C)', sluice: 'Sluice, fsync acks', 'sluice-none': 'Sluice, durability none', 'sluice-delay': 'Sluice, fsync acks, wal.commitDelayMs 1 ms', 'sluice-loop': 'Sluice, fsync acks, small groups synced on the loop (wal.loopSyncGroup 8)',
  floor: 'fdatasync floor (disk only: bench/harness/sync-floor.js)',
  'sluice-1t-2c': 'Sluice, 1 HTTP thread, cores 0-1 (shared with wrk)', 'sluice-2t-2c': 'Sluice, 2 HTTP threads (wal.shards 2), cores 0-1 (shared with wrk)',
};
const SCEN = { get: { lua: 'get.lua', path: '/i' }, post: { lua: 'post.lua', path: '/com.snowplowanalytics.snowplow/tp2' }, webhook: { lua: 'webhook.lua', path: '/com.mailgun/v1' } };

function wrk(scenario, port, seconds, conns) {
  const s = SCEN[scenario];
  const dir = path.join(__dirname, 'harness', 'wrk');
  return parseWrk(spawnSync('taskset', ['-c', LOAD_CPUS, 'wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', path.join(dir, s.lua), `http://127.0.0.1:${port}${s.path}`], { cwd: ANCH, encoding: 'utf8', env: { ...process.env, SLUICE_BENCH_WRK: dir } }));
}

/** The server running now (stopped on SIGINT/SIGTERM with the S3 process and the work files). */
let running = null;
function killTree(child) {
  // Children first (nginx's workers would outlive a killed master), then the server itself.
  for (const pid of childrenOf(child.pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (running !== null) killTree(running);
    stopS3();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** The server's process, its children and theirs (nginx's workers; Sluice has none). */
const serverPids = (child) => [...new Set([child.pid, ...childrenOf(child.pid)].flatMap((p) => [p, ...childrenOf(p)]))];

/** Starts server `name` pinned, runs `fn(child, def)`, then stops it and everything it started. */
async function withServer(name, fn) {
  const d = DEFS[name];
  if (!(await portFree(d.port))) throw new Error(`port ${d.port} is busy`);
  const child = spawn('taskset', ['-c', d.cpus ?? SERVER_CPUS, ...d.cmd], { cwd: ANCH, env: { ...process.env, ...d.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  running = child;
  let err = '';
  child.stderr.on('data', (b) => { err += b; });
  await waitPort(d.port, 20000).catch((e) => { killTree(child); running = null; throw new Error(`${name}: ${e.message}\n${err}`); });
  await new Promise((r) => setTimeout(r, name.startsWith('sluice') ? 1500 : 300));
  try {
    return await fn(child, d);
  } finally {
    if (opts.logs !== undefined) fs.appendFileSync(path.join(opts.logs, `${name}.log`), err);
    killTree(child);
    await new Promise((r) => { if (child.exitCode !== null || child.signalCode !== null) r(); else child.on('exit', r); });
    running = null;
    d.cleanup?.();
  }
}

function runServer(name, conns) {
  return withServer(name, (child, d) => {
    const out = {};
    for (const scenario of Object.keys(SCEN)) {
      if (scenario === 'webhook' && !d.webhook) continue;
      wrk(scenario, d.port, WARM, conns);
      const pids = serverPids(child);
      const cpu0 = cpuSecondsOf(pids);
      const w = wrk(scenario, d.port, DUR, conns);
      const cpu = cpuSecondsOf(pids) - cpu0;
      out[scenario] = {
        rps: w.requests / (w.duration_us / 1e6), p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, p999_ms: w.p999_us / 1000, max_ms: w.max_us / 1000,
        cpu_s_per_100k: w.requests > 0 ? (cpu / w.requests) * 1e5 : NaN, peak_rss_mib: peakRssBytesOf(pids) / 1048576,
        errors: w.err_connect + w.err_read + w.err_write + w.err_timeout, non2xx: w.non2xx, requests: w.requests,
      };
    }
    return out;
  });
}

/** Latency at each of FIXED_RATES (GET pixel, open loop), in a fresh server process. */
function runFixed(name) {
  return withServer(name, (child, d) => {
    const out = {};
    for (const rate of FIXED_RATES) {
      const pids = serverPids(child);
      const cpu0 = cpuSecondsOf(pids);
      const r = spawnSync('taskset', ['-c', LOAD_CPUS, process.execPath, path.join(__dirname, 'harness', 'fixed-rate.js'), '--port', String(d.port), '--rate', String(rate), '--seconds', String(FIXED_DUR), '--conns', '64', '--warmup', '2'], { encoding: 'utf8', timeout: (FIXED_DUR + 30) * 1000 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`fixed-rate ${name} ${rate}/s failed: ${r.stderr}`);
      // The server's CPU over the run (warm-up included: it is served at the same rate; the
      // generator's connect and final wait add idle time only): per request, and as a share of
      // its core. The kernel's block-layer workers (kworker) are not in it.
      const cpu = cpuSecondsOf(pids) - cpu0;
      const seconds = FIXED_DUR + 2;
      out[rate] = { ...JSON.parse(line), cpu_us_per_req: (cpu * 1e6) / (rate * seconds), core_busy: cpu / seconds };
    }
    return out;
  });
}

async function main() {
  const runs = [];
  const started = new Date();
  await startS3();
  for (let rep = 1; rep <= REPS; rep++) {
    // Interleaved: every server once per repetition and concurrency, the order rotated.
    const order = SERVERS.map((_, i) => SERVERS[(i + rep - 1) % SERVERS.length]);
    for (const conns of CONNS_LIST) {
      for (const name of order) {
        process.stderr.write(`rep ${rep}/${REPS} -c${conns} ${name}\n`);
        runs.push({ rep, conns, server: name, results: await runServer(name, conns) });
      }
    }
  }
  const fixedRuns = [];
  if (FIXED_RATES.length > 0) {
    for (let rep = 1; rep <= REPS; rep++) {
      const order = FIXED_SERVERS.map((_, i) => FIXED_SERVERS[(i + rep - 1) % FIXED_SERVERS.length]);
      for (const name of order) {
        process.stderr.write(`fixed rate, rep ${rep}/${REPS} ${name}\n`);
        fixedRuns.push({ rep, server: name, results: await runFixed(name) });
      }
    }
  }
  const fixed = [];
  for (const server of FIXED_SERVERS) {
    for (const rate of FIXED_RATES) {
      const rs = fixedRuns.filter((r) => r.server === server).map((r) => r.results[rate]);
      if (rs.length === 0) continue;
      const m = (k) => median(rs.map((r) => r[k]));
      fixed.push({ server, rate, p50_ms: m('p50'), p99_ms: m('p99'), p999_ms: m('p999'), max_ms: m('max'), non2xx: rs.reduce((n, r) => n + r.non2xx, 0), errors: rs.reduce((n, r) => n + r.errors + r.unanswered, 0), resent: rs.reduce((n, r) => n + (r.resent ?? 0), 0), cpu_us_per_req: m('cpu_us_per_req'), core_busy: m('core_busy'), p99_all: rs.map((r) => r.p99) });
    }
  }
  if (FIXED_RATES.length > 0) {
    // What fsync acknowledgements alone cost at these rates on the WAL's disk (no HTTP, no CPU
    // contention): the floor under Sluice's p99 rows.
    const r = spawnSync('taskset', ['-c', SERVER_CPUS, process.execPath, path.join(__dirname, 'harness', 'sync-floor.js'), '--dir', path.join(WORK, 'sync-floor'), '--syncs', '20000', '--rates', FIXED_RATES.join(' ')], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`sync-floor failed: ${r.stderr}`);
    const floor = JSON.parse(r.stdout);
    for (const rate of FIXED_RATES) {
      const f = floor.floor[rate];
      fixed.push({ server: 'floor', rate, p50_ms: f.p50, p99_ms: f.p99, p999_ms: f.p999, max_ms: f.max, non2xx: 0, errors: 0, resent: 0, cpu_us_per_req: NaN, core_busy: NaN, p99_all: [f.p99] });
    }
  }
  const table = [];
  for (const conns of CONNS_LIST) {
    for (const server of SERVERS) {
      for (const scenario of Object.keys(SCEN)) {
        const rs = runs.filter((r) => r.conns === conns && r.server === server && r.results[scenario]).map((r) => r.results[scenario]);
        if (rs.length === 0) continue;
        const m = (k) => median(rs.map((r) => r[k]));
        table.push({ conns, server, scenario, rps: m('rps'), p50_ms: m('p50_ms'), p99_ms: m('p99_ms'), p999_ms: m('p999_ms'), cpu_s_per_100k: m('cpu_s_per_100k'), peak_rss_mib: Math.max(...rs.map((r) => r.peak_rss_mib)), non2xx: rs.reduce((n, r) => n + r.non2xx, 0), errors: rs.reduce((n, r) => n + r.errors, 0), rps_all: rs.map((r) => Math.round(r.rps)) });
      }
    }
  }
  const nginx = (scenario, conns) => table.find((r) => r.server === 'nginx' && r.scenario === scenario && r.conns === conns);
  const machine = `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, ${spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] || 'wrk'}`;
  const lines = [
    `Run ${started.toISOString().slice(0, 16)}Z on ${machine}. ${REPS} interleaved repetitions, medians; wrk -t1 with ${CONNS_LIST.join(' and ')} connections, ${DUR} s per scenario after ${WARM} s of warm-up; server pinned to CPU ${SERVER_CPUS}, wrk to CPU ${LOAD_CPUS}.`,
    '',
    `Command: \`node bench/run.js ${process.argv.slice(2).join(' ')}\``,
    '',
    '| conns | server | scenario | req/s | × nginx | p50 ms | p99 ms | p99.9 ms | CPU s / 100k | peak RSS MiB | non-2xx | errors | req/s per rep |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...table.map((r) => {
      const n = nginx(r.scenario, r.conns);
      return `| ${r.conns} | ${LABEL[r.server] ?? r.server} | ${r.scenario} | ${fmt(r.rps)} | ${n ? fmt(r.rps / n.rps, 2) : '–'} | ${fmt(r.p50_ms, 2)} | ${fmt(r.p99_ms, 2)} | ${fmt(r.p999_ms, 2)} | ${fmt(r.cpu_s_per_100k, 2)} | ${fmt(r.peak_rss_mib)} | ${r.non2xx} | ${r.errors} | ${r.rps_all.join(', ')} |`;
    }),
  ];
  if (fixed.length > 0) {
    const nginxAt = (rate) => fixed.find((r) => r.server === 'nginx' && r.rate === rate);
    lines.push(
      '',
      `Latency at the same offered load: bench/harness/fixed-rate.js (open loop, GET pixel, 64 connections, latency from each request's due time), ${FIXED_DUR} s after 2 s of warm-up, a fresh server process per run; medians of ${REPS}.`,
      '',
      '| server | offered req/s | p50 ms | p99 ms | p99 × nginx | p99.9 ms | max ms | CPU µs / request | core busy | non-2xx | errors + unanswered | resent | p99 per rep |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...fixed.map((r) => {
        const n = nginxAt(r.rate);
        return `| ${LABEL[r.server] ?? r.server} | ${fmt(r.rate)} | ${fmt(r.p50_ms, 2)} | ${fmt(r.p99_ms, 2)} | ${n ? fmt(r.p99_ms / n.p99_ms, 1) : '–'} | ${fmt(r.p999_ms, 2)} | ${fmt(r.max_ms, 2)} | ${Number.isFinite(r.cpu_us_per_req) ? fmt(r.cpu_us_per_req) : '–'} | ${Number.isFinite(r.core_busy) ? `${fmt(r.core_busy * 100)}%` : '–'} | ${r.non2xx} | ${r.errors} | ${r.resent} | ${r.p99_all.join(', ')} |`;
      }),
    );
  }
  lines.push('', S3_MODE === 'remote'
    ? 'Sluice shipped to s3rver in a process of its own on CPU 1 (nice 19, files in tmpfs), as to a remote S3.'
    : 'Sluice shipped to the embedded S3 (s3rver in its shipper thread, on CPU 0).');
  const md = lines.join('\n');
  console.log(md);
  const outJson = path.join(ROOT, 'bench', 'results', `run-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(outJson), { recursive: true });
  fs.writeFileSync(outJson, JSON.stringify({ started, machine, argv: process.argv.slice(2), DUR, WARM, REPS, SERVERS, CONNS: CONNS_LIST, S3: S3_MODE, FIXED_RATES, FIXED_DUR, table, runs, fixed, fixedRuns }, null, 1));
  console.log(`\nraw: ${path.relative(ROOT, outJson)}`);
  if (WRITE) {
    // Only the current table changes: the text between the markers (the reading around it and the
    // older runs below stay as written).
    const results = path.join(ROOT, 'bench', 'RESULTS.md');
    const text = fs.readFileSync(results, 'utf8');
    const start = text.indexOf('<!-- table -->');
    const end = text.indexOf('<!-- /table -->');
    if (start < 0 || end < start) throw new Error('bench/RESULTS.md has no <!-- table --> ... <!-- /table --> block to replace');
    fs.writeFileSync(results, `${text.slice(0, start)}<!-- table -->\n${md}\n\nRaw results: \`${path.relative(ROOT, outJson)}\`.\n${text.slice(end)}`);
    console.log('wrote bench/RESULTS.md');
  }
}

function stopS3() {
  if (s3Process !== null && s3Process.exitCode === null) s3Process.kill('SIGKILL');
  fs.rmSync(S3_DIR, { recursive: true, force: true });
  fs.rmSync(WORK, { recursive: true, force: true });
}

main().then(stopS3, (e) => { console.error(e); stopS3(); process.exit(1); });
