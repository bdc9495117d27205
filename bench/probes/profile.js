#!/usr/bin/env node
// Where a request's time goes: runs `node --cpu-prof dist/server.js` (fsync acks, shipping off,
// no pre-termination wait) pinned to CPU 0 under wrk on CPU 1 for --seconds (default 10), then
// prints the busy share of the profile by self time and the inclusive time of the request stages.
//
//   node bench/probes/profile.js [--kind get|post] [--seconds 10] [--conns 64]   # the .cpuprofile goes to bench/results/ (not committed)
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { waitPort } = require('../harness/lib');

const ROOT = path.join(__dirname, '..', '..');
const { ANCHORS: ANCH } = require('../harness/lib');
const { options } = require('../harness/cli');
const opts = options('node bench/probes/profile.js [options]: a CPU profile of the server under wrk', {
  kind: { kind: 'string', default: 'get', help: 'get (pixel) or post (tp2)' },
  seconds: { kind: 'number', default: 10, help: 'seconds of load' },
  conns: { kind: 'number', default: 64, help: "wrk's connections" },
});
if (opts.kind !== 'get' && opts.kind !== 'post') { console.error('--kind is get or post'); process.exit(2); }
const KIND = opts.kind;
const DUR = opts.seconds;
const PORT = 8097;

const STAGES = {
  'head parse (request line and fields)': ['parseRequestHead'],
  'service (routing, identity, cookies, CORS)': ['handle'],
  'record (Thrift encode, split)': ['encode', 'buildRecords'],
  'WAL append (copy into the map, CRC32C)': ['submit'],
  'answer (response bytes, ordered write)': ['answer', 'answerText'],
  'group commit completion (waiters answered)': ['finish'],
  'metrics observer': ['answered'],
};

/** The area of the code a profile node's self time belongs to. */
function areaOf(callFrame) {
  const { url, functionName: f } = callFrame;
  if (f === '(garbage collector)') return 'garbage collection';
  if (f === 'writeBuffer' || f === 'writev') return 'socket write (syscall)';
  if (f === 'fdatasync') return 'fdatasync (syscall)';
  if (f.startsWith('RegExp')) return 'regular expressions';
  if (/dist\/http\/(request-head|http-connection|response-bytes|body-reader)/.test(url)) return 'HTTP wire (JS)';
  if (/dist\/http\//.test(url)) return 'service and server glue (JS)';
  if (/dist\/payload\//.test(url)) return 'record (JS)';
  if (/dist\/wal\//.test(url)) return 'WAL (JS)';
  if (/dist\/ops\/|JsHistogram|hdr-histogram/.test(url)) return 'metrics (JS)';
  if (url.startsWith('node:')) return "Node's stream and net layers";
  return 'other (program, native helpers)';
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prof-'));
  fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ ship: { enabled: false }, collector: { preTerminationPeriod: 0 } }));
  const child = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, path.join(ROOT, 'dist', 'server.js'), '--config', path.join(dir, 'c.json')], {
    env: { ...process.env, SLUICE_PORT: String(PORT), SLUICE_ADMIN_PORT: '0', SLUICE_WAL_DIR: path.join(dir, 'wal'), SLUICE_LOG_LEVEL: 'warn' }, stdio: 'inherit',
  });
  await waitPort(PORT);
  const url = KIND === 'get' ? `http://127.0.0.1:${PORT}/i` : `http://127.0.0.1:${PORT}/com.snowplowanalytics.snowplow/tp2`;
  // Only samples taken while wrk runs count (V8's profile clock and hrtime are both CLOCK_MONOTONIC).
  const loadFrom = Number(process.hrtime.bigint() / 1000n);
  const w = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${opts.conns}`, `-d${DUR}s`, '-s', `${KIND}.lua`, url], { cwd: ANCH, encoding: 'utf8' });
  const loadTo = Number(process.hrtime.bigint() / 1000n);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(w.stdout)?.[1];
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const out = path.join(ROOT, 'bench', 'results', `profile-${KIND}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.copyFileSync(path.join(dir, file), out);
  fs.rmSync(dir, { recursive: true, force: true });

  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const selfById = new Map();
  const inclusive = new Map();
  let busy = 0;
  let at = prof.startTime;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (at < loadFrom || at > loadTo) return;
    const n = byId.get(id);
    if (n.callFrame.functionName === '(idle)') return;
    busy += dt;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    selfById.set(id, (selfById.get(id) ?? 0) + dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur).callFrame.functionName;
      if (!seen.has(name)) { seen.add(name); inclusive.set(name, (inclusive.get(name) ?? 0) + dt); }
    }
  });
  const reqs = Number(rps) * DUR;
  console.log(`## Profile: ${KIND}, ${rps} req/s under wrk -c${opts.conns} for ${DUR} s; ${(busy / 1e6).toFixed(2)} s of JS-thread CPU during the load (${((busy / reqs)).toFixed(1)} µs per request)\n`);
  console.log('| stage (inclusive) | share of busy time | µs per request |\n|---|---|---|');
  for (const [stage, fns] of Object.entries(STAGES)) {
    const t = Math.max(...fns.map((f) => inclusive.get(f) ?? 0));
    console.log(`| ${stage} | ${((t / busy) * 100).toFixed(1)}% | ${(t / reqs).toFixed(1)} |`);
  }
  const areas = new Map();
  for (const [id, t] of selfById) {
    const a = areaOf(byId.get(id).callFrame);
    areas.set(a, (areas.get(a) ?? 0) + t);
  }
  console.log('\n| area (self time) | share | µs per request |\n|---|---|---|');
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`| ${a} | ${((t / busy) * 100).toFixed(1)}% | ${(t / reqs).toFixed(1)} |`);
  console.log('\n| function (self time) | share |\n|---|---|');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`| ${k.replace(/\|/g, '\\|')} | ${((v / busy) * 100).toFixed(1)}% |`);
  console.log(`\nprofile: ${path.relative(ROOT, out)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
