#!/usr/bin/env node
// The per-request JavaScript stages without the network: the anchors' GET pixel (664-byte query,
// browser headers and tracker cookies, as wrk sends them) and tp2 POST (1,850-byte body) go
// through CollectorService.handle, the record build (Thrift) and the WAL append (durability
// none, a real mapped segment in a temporary directory). Prints ns per request per stage, the
// median of REPS rounds of N requests each. Repeatable enough to compare a change before/after
// on this noisy machine (run both in one session); the HTTP and fsync costs are in bench/run.js.
//
//   npm run build && node bench/probes/hot-path.js [--requests 50000] [--reps 7]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ANCHORS, anchorPixelRequest, median } = require('../harness/lib');

const ROOT = path.join(__dirname, '..', '..');
const { options } = require('../harness/cli');
const opts = options('node bench/probes/hot-path.js [options]: ns per request per stage, no network', {
  requests: { kind: 'number', default: 50000, help: 'requests per round' },
  reps: { kind: 'number', default: 7, help: 'rounds (median)' },
});
const N = opts.requests;
const REPS = opts.reps;

const { configFromObject } = require(path.join(ROOT, 'dist', 'config', 'load.js'));
const { CollectorService } = require(path.join(ROOT, 'dist', 'http', 'collector-service.js'));
const { emptyCapturedRequest, addHeader } = require(path.join(ROOT, 'dist', 'http', 'captured-request.js'));
const { InlineSerializer } = require(path.join(ROOT, 'dist', 'payload', 'record-serializer.js'));
const { WriteAheadLog } = require(path.join(ROOT, 'dist', 'wal', 'write-ahead-log.js'));

const pixel = anchorPixelRequest();
const query = pixel.query;
const body = fs.readFileSync(path.join(ANCHORS, 'tp2-body.json'));
// wrk's request: its Host first, then the script's headers (request-headers.txt plus Accept).
const headers = [['host', '127.0.0.1:8090'], ...pixel.headers.map(([k, v]) => [k.toLowerCase(), v])];
const getHeaders = [...headers, ['accept', pixel.accept]];
const postHeaders = [...headers, ['content-type', 'application/json; charset=UTF-8'], ['content-length', String(body.length)]];

function capture(kind) {
  const get = kind === 'get';
  const req = emptyCapturedRequest(get ? 'get' : 'post', get ? '/i' : '/com.snowplowanalytics.snowplow/tp2', get ? query : '', '127.0.0.1');
  for (const [k, v] of get ? getHeaders : postHeaders) addHeader(req, k, v);
  if (!get) req.body = body;
  return req;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-hot-'));
  const { config: cfg } = configFromObject({});
  const walDir = path.join(dir, 'wal');
  fs.mkdirSync(walDir, { recursive: true });
  const log = { info() {}, warn() {}, error() {} };
  const wal = WriteAheadLog.open({
    dir: walDir, durability: 'none', segmentBytes: 64 * 1024 * 1024, maxSegmentAgeMs: 3600e3, maxPendingRecords: 1e9,
    maxUnshippedBytes: 64 * 1024 ** 3, minFreeBytes: 0, maxSyncLatencyMs: 1e9, spareSegments: 1, recycleSegments: 0, log,
  });
  const service = new CollectorService(cfg.collector, { unhealthyReason: () => null, sinkHealthy: () => true });
  const serializer = new InlineSerializer({ collector: 'sluice-bench-wal', limits: { maxBytes: cfg.wal.maxRecordBytes, maxPayloadSize: cfg.collector.networking.maxPayloadSize }, processor: { artifact: 'sluice', version: 'bench' } });
  const committed = { onCommitted() {} };
  let records = null;
  const sink = { onSerialized(r) { records = r; } };

  const results = {};
  for (const kind of ['get', 'post']) {
    const stages = { capture: [], service: [], record: [], append: [], total: [] };
    for (let rep = 0; rep < REPS + 1; rep++) {
      const t = { capture: 0n, service: 0n, record: 0n, append: 0n };
      let start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        const t0 = process.hrtime.bigint();
        const req = capture(kind);
        const t1 = process.hrtime.bigint();
        const outcome = service.handle(req);
        const t2 = process.hrtime.bigint();
        serializer.serialize(outcome.job, sink);
        const t3 = process.hrtime.bigint();
        let t4 = process.hrtime.bigint();
        if (!wal.submit(records.good, records.bad, committed)) {
          // No spare segment yet (it is written on the libuv pool): wait, untimed, and append.
          const paused = process.hrtime.bigint();
          for (let tries = 0; !wal.submit(records.good, records.bad, committed); tries++) {
            if (tries > 500) throw new Error(`WAL refused: ${wal.refusal()}`);
            await new Promise((r) => setTimeout(r, 10));
          }
          t4 = process.hrtime.bigint();
          start += t4 - paused;
        }
        t.capture += t1 - t0; t.service += t2 - t1; t.record += t3 - t2; t.append += t4 - t3;
      }
      const total = process.hrtime.bigint() - start;
      if (rep === 0) continue; // warm-up
      for (const k of Object.keys(t)) stages[k].push(Number(t[k]) / N);
      stages.total.push(Number(total) / N);
    }
    results[kind] = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(median(v))]));
  }
  wal.close().then(() => fs.rmSync(dir, { recursive: true, force: true }));
  console.log(`hot path, ns per request (median of ${REPS} rounds of ${N}; total includes the timer calls)`);
  console.log('| stage | GET pixel | tp2 POST |\n|---|---|---|');
  for (const k of ['capture', 'service', 'record', 'append', 'total']) console.log(`| ${k} | ${results.get[k]} | ${results.post[k]} |`);
}

main().catch((e) => { console.error(e); process.exit(1); });
