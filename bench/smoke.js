#!/usr/bin/env node
// CI smoke benchmark: a short autocannon run against a real `node dist/server` (fsync acks, the
// WAL on this disk, shipping off), GET pixels then POST tp2 batches, every request with its own
// event id. Fails on errors, non-2xx answers or lost events (an acknowledged id missing from the
// WAL, or stored twice); prints the figures and never judges speed (the CI machine is shared).
//
//   node bench/smoke.js [--seconds 5]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { freePort } = require('./harness/lib');

const ROOT = path.join(__dirname, '..');
const { options } = require('./harness/cli');
const SECONDS = options('node bench/smoke.js [options]: the CI smoke run (fails on errors or lost events, never on speed)', {
  seconds: { kind: 'number', default: 5, help: 'seconds of GET, then of POST' },
}).seconds;
const { scanSegmentFile } = require(path.join(ROOT, 'dist', 'wal', 'segment-scanner.js'));
const { decodeCollectorPayload } = require(path.join(ROOT, 'dist', 'payload', 'decode-payload.js'));


async function load(url, method, makeRequest, acked) {
  const result = await autocannon({
    url, connections: 16, duration: SECONDS,
    requests: [{
      method,
      setupRequest: (req, context) => { const r = makeRequest(); context.eid = r.eid; return { ...req, ...r.req }; },
      onResponse: (status, _body, context) => { if (status === 200) acked.push(context.eid); },
    }],
  });
  return result;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-smoke-'));
  const port = await freePort();
  const walDir = path.join(dir, 'wal');
  fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ ship: { enabled: false } }));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--config', path.join(dir, 'c.json')], {
    env: { ...process.env, SLUICE_PORT: String(port), SLUICE_ADMIN_PORT: '0', SLUICE_WAL_DIR: walDir, SLUICE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let k = 0; ; k++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) break; } catch { /* starting */ }
    if (k > 100) throw new Error('the collector did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  let n = 0;
  const acked = [];
  const get = await load(`http://127.0.0.1:${port}`, 'GET', () => { const eid = `g${n++}`; return { eid, req: { path: `/i?e=pv&tv=js-3.24.0&aid=smoke&url=https%3A%2F%2Fshop.example.com%2F&eid=${eid}` } }; }, acked);
  const post = await load(`http://127.0.0.1:${port}`, 'POST', () => {
    const eid = `p${n++}`;
    const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid, aid: 'smoke', tv: 'js-3.24.0' }] });
    return { eid, req: { path: '/com.snowplowanalytics.snowplow/tp2', body, headers: { 'content-type': 'application/json' } } };
  }, acked);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));

  const stored = new Map();
  for (const name of fs.readdirSync(walDir).filter((f) => /^segment-\d+\.seg$/.test(f))) {
    const scan = scanSegmentFile(path.join(walDir, name));
    if (typeof scan === 'string') throw new Error(`${name}: ${scan}`);
    for (const r of scan.records) {
      if (r.kind !== 1) continue;
      const p = decodeCollectorPayload(r.payload);
      const ids = p.path === '/i' ? [new URLSearchParams(p.querystring).get('eid')] : JSON.parse(p.body).data.map((e) => e.eid);
      for (const id of ids) stored.set(id, (stored.get(id) ?? 0) + 1);
    }
  }
  const lost = acked.filter((id) => !stored.has(id));
  const dup = acked.filter((id) => stored.get(id) > 1);
  fs.rmSync(dir, { recursive: true, force: true });
  const row = (name, r) => `| ${name} | ${Math.round(r.requests.average).toLocaleString('en-US')} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${r.non2xx} | ${r.errors + r.timeouts} |`;
  console.log(`## Smoke benchmark (${SECONDS} s each, 16 connections, autocannon, fsync acks; no speed judgement)\n`);
  console.log('| scenario | req/s | p50 ms | p99 ms | max ms | non-2xx | errors |\n|---|---|---|---|---|---|---|');
  console.log(row('GET /i', get));
  console.log(row('POST tp2', post));
  console.log(`\n${acked.length} events acknowledged, ${stored.size} stored, ${lost.length} lost, ${dup.length} stored twice; server exit ${code}`);
  const failures = [];
  if (get.errors + get.timeouts + post.errors + post.timeouts > 0) failures.push('request errors');
  if (get.non2xx + post.non2xx > 0) failures.push('non-2xx answers');
  if (lost.length > 0) failures.push(`${lost.length} acknowledged events lost (${lost.slice(0, 5).join(', ')})`);
  if (dup.length > 0) failures.push(`${dup.length} events stored twice`);
  if (acked.length === 0) failures.push('nothing acknowledged');
  if (code !== 0) failures.push(`server exit ${code}`);
  if (failures.length > 0) { console.error(`smoke benchmark FAILED: ${failures.join('; ')}`); process.exit(1); }
}

main().catch((e) => { console.error(e); process.exit(1); });
