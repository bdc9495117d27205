// Shared bench helpers: start a pinned server, run wrk pinned on the other core, read /proc.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');

// The anchors' folder: ../shared/bench beside the repository, or ANCHORS_DIR (set by bench/run.js
// --anchors for the scripts it starts).
const ANCHORS = process.env.ANCHORS_DIR || path.join(__dirname, '..', '..', '..', 'shared', 'bench');
const ROOT = path.join(__dirname, '..', '..');

function procStat(pid) {
  // utime+stime of the process (all threads), in seconds.
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const hz = 100;
  return (Number(parts[11]) + Number(parts[12])) / hz;
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds of processes (utime+stime); processes already gone count 0. */
function cpuSecondsOf(pids) {
  return pids.reduce((s, pid) => { try { return s + procStat(pid); } catch { return s; } }, 0);
}

/** Sum of the peak RSS (VmHWM) of processes, bytes; processes already gone count 0. */
function peakRssBytesOf(pids) {
  return pids.reduce((s, pid) => { try { const m = peakRssMiB(pid); return Number.isFinite(m) ? s + m * 1048576 : s; } catch { return s; } }, 0);
}

/** A loopback port free right now. */
function freePort() {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

function waitPort(port, ms = 15000) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(); });
      s.on('error', () => { if (Date.now() > until) reject(new Error(`port ${port} not open`)); else setTimeout(tryOnce, 100); });
    };
    tryOnce();
  });
}

/** Starts `node dist/server.js` pinned to `cpus` (CPU 0) with env; resolves { pid, stop }. */
async function startSluice(env, port, args = [], cpus = '0') {
  const child = spawn('taskset', ['-c', cpus, process.execPath, path.join(ROOT, 'dist', 'server.js'), ...args], {
    env: { ...process.env, SLUICE_PORT: String(port), SLUICE_ADMIN_PORT: '0', SLUICE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitPort(port);
  return {
    pid: child.pid,
    stop: () => new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGKILL'); }),
  };
}

/** wrk pinned to `cpus` (CPU 1); returns the parsed WRKJSON line. */
function wrk(kind, port, seconds, conns = 64, cpus = '1') {
  const script = kind === 'get' ? 'get.lua' : 'post.lua';
  const url = kind === 'get' ? `http://127.0.0.1:${port}/i` : `http://127.0.0.1:${port}/com.snowplowanalytics.snowplow/tp2`;
  return parseWrk(spawnSync('taskset', ['-c', cpus, 'wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, url], { cwd: ANCHORS, encoding: 'utf8' }));
}

/** The WRKJSON line of a finished wrk run (spawnSync result), with its non-2xx count. */
function parseWrk(r) {
  const m = /WRKJSON (\{.*\})/.exec(r.stdout);
  if (!m) throw new Error(`wrk failed: ${r.stdout} ${r.stderr}`);
  const j = JSON.parse(m[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  j.non2xx = non2xx ? Number(non2xx[1]) : 0;
  return j;
}

/** Load under measurement: CPU seconds and peak RSS of `pid` around a wrk run. */
function measure(kind, port, pid, seconds) {
  const cpu0 = procStat(pid);
  const w = wrk(kind, port, seconds);
  const cpu = procStat(pid) - cpu0;
  const reqs = w.requests;
  return {
    rps: reqs / (w.duration_us / 1e6), p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, max_ms: w.max_us / 1000,
    cpu_s_per_100k: reqs > 0 ? (cpu / reqs) * 1e5 : NaN, peak_rss_mib: peakRssMiB(pid), errors: w.err_connect + w.err_read + w.err_write + w.err_timeout, non2xx: w.non2xx,
  };
}

function median(xs) {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-';
}

/**
 * The anchors' pixel request as wrk sends it: the 664-byte query, and the browser headers of
 * request-headers.txt plus the pixel Accept, as [name, value] pairs (names as written).
 */
function anchorPixelRequest() {
  const query = fs.readFileSync(path.join(ANCHORS, 'i-query.txt'), 'latin1').trim();
  const headers = [];
  for (const line of fs.readFileSync(path.join(ANCHORS, 'request-headers.txt'), 'latin1').split('\n')) {
    const m = /^([^:]+):\s*(.*?)\s*$/.exec(line);
    if (m) headers.push([m[1], m[2]]);
  }
  return { query, headers, accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' };
}

module.exports = { ANCHORS, anchorPixelRequest, ROOT, startSluice, wrk, parseWrk, measure, median, fmt, procStat, peakRssMiB, cpuSecondsOf, peakRssBytesOf, freePort, waitPort };
