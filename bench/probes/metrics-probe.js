#!/usr/bin/env node
// Would prom-client cost nothing on the request path? What one answered request costs to count:
// Sluice's RequestMetrics.answered (nested maps of counters, the windowed HDR latency histogram,
// the fixed buckets, the events histogram) against prom-client doing the same (a labelled
// Counter, a latency Histogram with the same buckets, an events Histogram), in one process,
// interleaved rounds, medians. Also the cost of one exposition of each (scrape time, not the
// request path). Needs `npm run build` and prom-client (a devDependency for this probe only).
//
//   node bench/probes/metrics-probe.js [--requests 1000000] [--reps 5]
'use strict';
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { median, ROOT } = require('../harness/lib');
const { options } = require('../harness/cli');

const opts = options('node bench/probes/metrics-probe.js [options]: per-request metric cost, hand-written against prom-client', {
  requests: { kind: 'number', default: 1_000_000, help: 'answered requests counted per round' },
  reps: { kind: 'number', default: 5, help: 'rounds (medians)' },
});
const client = require('prom-client');
const { RequestMetrics } = require(path.join(ROOT, 'dist', 'ops', 'request-metrics.js'));
const { ACK_LATENCY_BOUNDS_US, EVENTS_PER_REQUEST_BOUNDS } = require(path.join(ROOT, 'dist', 'ops', 'bucket-histogram.js'));
const { emptyCapturedRequest } = require(path.join(ROOT, 'dist', 'http', 'captured-request.js'));
const { PrometheusText } = require(path.join(ROOT, 'dist', 'ops', 'prometheus-text.js'));

const reqs = [emptyCapturedRequest('get', '/i', 'e=pv', '127.0.0.1'), emptyCapturedRequest('post', '/com.snowplowanalytics.snowplow/tp2', '', '127.0.0.1')];
reqs[1].body = Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv' }, { e: 'se' }, { e: 'pp' }] }));
const statuses = [200, 200, 200, 200, 200, 200, 200, 200, 503, 413];

function sluiceRound(n) {
  const m = new RequestMetrics({});
  const t0 = performance.now();
  for (let i = 0; i < n; i++) m.answered(reqs[i & 1], statuses[i % 10], true, 0, t0 - (i % 7));
  const ns = ((performance.now() - t0) * 1e6) / n;
  const e0 = performance.now();
  const out = new PrometheusText();
  const s = m.snapshot();
  out.family('x_requests_total', 'counter', 'x');
  for (const [endpoint, method, status, c] of s.answers) out.sample('x_requests_total', c, { endpoint, method, status: String(status) });
  out.histogram('x_ack_seconds', 'x', s.ackBuckets, 1e6).summary('x_ack_summary_seconds', 'x', s.ackLatency, 1e6).histogram('x_events', 'x', s.events);
  out.toString();
  return { ns, exposeMs: performance.now() - e0 };
}

async function promRound(n) {
  const registry = new client.Registry();
  const requests = new client.Counter({ name: 'x_requests_total', help: 'x', labelNames: ['endpoint', 'method', 'status'], registers: [registry] });
  const ack = new client.Histogram({ name: 'x_ack_seconds', help: 'x', buckets: ACK_LATENCY_BOUNDS_US.map((b) => b / 1e6), registers: [registry] });
  const events = new client.Histogram({ name: 'x_events', help: 'x', buckets: [...EVENTS_PER_REQUEST_BOUNDS], registers: [registry] });
  const endpoints = ['pixel', 'tp2'];
  const methods = ['GET', 'POST'];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const k = i & 1;
    requests.inc({ endpoint: endpoints[k], method: methods[k], status: statuses[i % 10] });
    ack.observe(((performance.now() - (t0 - (i % 7))) * 1000) / 1e6);
    events.observe(k === 1 ? 3 : 1);
  }
  const ns = ((performance.now() - t0) * 1e6) / n;
  const e0 = performance.now();
  await registry.metrics();
  return { ns, exposeMs: performance.now() - e0 };
}

async function main() {
  const rows = { sluice: [], prom: [] };
  for (let r = 0; r < opts.reps; r++) {
    rows.sluice.push(sluiceRound(opts.requests));
    rows.prom.push(await promRound(opts.requests));
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  console.log(`${opts.requests} answered requests per round, median of ${opts.reps}, Node ${process.version}, prom-client ${require('prom-client/package.json').version}\n`);
  console.log('| recording | ns per answered request | one exposition, ms |\n|---|---|---|');
  console.log(`| Sluice (RequestMetrics: counters, HDR window, buckets, events) | ${m(rows.sluice, 'ns').toFixed(0)} | ${m(rows.sluice, 'exposeMs').toFixed(2)} |`);
  console.log(`| prom-client (labelled Counter, two Histograms; no quantile window) | ${m(rows.prom, 'ns').toFixed(0)} | ${m(rows.prom, 'exposeMs').toFixed(2)} |`);
}
main().catch((e) => { console.error(e); process.exit(1); });
