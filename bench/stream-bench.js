#!/usr/bin/env node
// The stream sink against kinesalite (a real Kinesis API on loopback, in its own process on CPU 1):
//
//  1. Throughput: the collector (CPU 0) takes RECORDS pixels while its good stream does not exist
//     yet, so they wait in the WAL; then the stream is created and the time until the sink has put
//     them all gives its records/s. Beside it, a bare PutRecords client (CPU 0, the same record
//     size, 500 per call, the same calls in flight) against the same kinesalite: the anchor.
//     Interleaved, REPS times each; medians.
//  2. Latency: an open-loop client sends pixels at 1k and 5k req/s; a reader polling GetRecords on
//     every shard notes when each event becomes readable. Acknowledgement to readable, p50/p99.
//     Beside it, the floor: a bare client's records from the start of their PutRecords call to readable.
//
//   node bench/stream-bench.js [--records 200000] [--reps 2] [--seconds 10] [--only throughput|latency]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const autocannon = require('autocannon');
const hdr = require('hdr-histogram-js');
const { freePort, waitPort, median, fmt, ROOT, cpuSecondsOf } = require('./harness/lib');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { KinesisClient, CreateStreamCommand, PutRecordsCommand, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand, DeleteStreamCommand } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { decodeCollectorPayload } = require(path.join(ROOT, 'dist', 'payload', 'decode-payload.js'));

const { options } = require('./harness/cli');
const opts = options('node bench/stream-bench.js [options]: the stream sink against kinesalite, beside a bare PutRecords client', {
  records: { kind: 'number', default: 200000, help: 'records waiting in the WAL for the throughput measurement' },
  reps: { kind: 'number', default: 2, help: 'throughput repetitions (medians)' },
  seconds: { kind: 'number', default: 10, help: 'seconds per latency rate' },
  only: { kind: 'string', default: 'all', help: 'throughput, latency or all' },
});
if (!['all', 'throughput', 'latency'].includes(opts.only)) { console.error('--only is throughput, latency or all'); process.exit(2); }
const RECORDS = opts.records;
const REPS = opts.reps;
const SECONDS = opts.seconds;
const ONLY = opts.only;
const IN_FLIGHT = 4;
const SHARDS = 2;

async function startKinesalite() {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '1', process.execPath, '-e', `require(${JSON.stringify(path.join(ROOT, 'node_modules', 'kinesalite'))})({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 }).listen(${port}, '127.0.0.1')`], { stdio: 'inherit' });
  await waitPort(port);
  const endpoint = `http://127.0.0.1:${port}`;
  const make = () => new KinesisClient({ endpoint, region: 'eu-central-1', credentials: { accessKeyId: 'k', secretAccessKey: 'k' }, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
  // The reader has a client (and sockets) of its own, so puts queued on the writer's never delay it.
  return { endpoint, client: make(), reader: make(), stop: () => child.kill('SIGKILL') };
}

async function metric(adminPort, name) {
  const body = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: adminPort, path: '/metrics' }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); }).on('error', reject));
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

async function startCollector(k, stream, dir) {
  const port = await freePort();
  const adminPort = await freePort();
  fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify({
    collector: { preTerminationPeriod: '0 s', streams: { good: { name: stream, customEndpoint: k.endpoint, startupCheckInterval: '100 ms' }, bad: { name: `${stream}-bad`, customEndpoint: k.endpoint } } },
    ship: { enabled: false }, stream: { maxInFlightBatches: IN_FLIGHT }, wal: { dir: path.join(dir, 'wal') }, admin: { port: adminPort },
  }));
  const child = spawn('taskset', ['-c', '0', process.execPath, path.join(ROOT, 'dist', 'server.js'), '--config', path.join(dir, 'c.json')], {
    env: { ...process.env, SLUICE_PORT: String(port), AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 'k', AWS_REGION: 'eu-central-1', SLUICE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitPort(port);
  await waitPort(adminPort);
  return { port, adminPort, pid: child.pid, stop: () => new Promise((r) => { child.on('exit', r); child.kill('SIGKILL'); }) };
}

async function createStream(k, name) {
  await k.client.send(new CreateStreamCommand({ StreamName: name, ShardCount: SHARDS }));
}

/** The sink's records/s: RECORDS waiting in the WAL, then the stream appears. */
async function sinkThroughput(k, rep) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-stream-bench-'));
  const stream = `tp-${rep}-${randomUUID().slice(0, 8)}`;
  await createStream(k, `${stream}-bad`);
  const c = await startCollector(k, stream, dir);
  await autocannon({ url: `http://127.0.0.1:${c.port}/i?e=pv&aid=bench&p=web&tv=js-3.0.0&url=https%3A%2F%2Facme.com%2Fpage`, connections: 64, amount: RECORDS });
  const bytes = await metric(c.adminPort, 'sluice_wal_appended_bytes_total');
  // taskset execs node in place: the pid is the collector's.
  const cpu0 = cpuSecondsOf([c.pid]);
  await createStream(k, stream);
  // Timed from the first confirmed put (the start-up check's wait is not the sink's rate), polling
  // the metrics every 100 ms (each scrape takes CPU from the collector's core).
  let t0 = null;
  let from = 0;
  for (;;) {
    const got = (await metric(c.adminPort, 'sluice_stream_records_put_total{stream="good"}')) ?? 0;
    if (t0 === null && got > 0) { t0 = process.hrtime.bigint(); from = got; }
    if (got >= RECORDS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuUsPerRecord = ((cpuSecondsOf([c.pid]) - cpu0) * 1e6) / RECORDS;
  await c.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { recordsPerSecond: (RECORDS - from) / seconds, recordBytes: Math.round(bytes / RECORDS), cpuUsPerRecord };
}

/** A bare PutRecords client: the same number and size of records, 500 per call, IN_FLIGHT calls at once (run pinned on CPU 0). */
async function bareThroughput(k, recordBytes, rep) {
  const stream = `bare-${rep}-${randomUUID().slice(0, 8)}`;
  await createStream(k, stream);
  const child = spawn('taskset', ['-c', '0', process.execPath, '-e', `
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { KinesisClient, PutRecordsCommand } = require(${JSON.stringify(path.join(ROOT, 'node_modules', '@aws-sdk', 'client-kinesis'))});
    const { NodeHttpHandler } = require(${JSON.stringify(path.join(ROOT, 'node_modules', '@smithy', 'node-http-handler'))});
    const { randomUUID, randomBytes } = require('node:crypto');
    const c = new KinesisClient({ endpoint: ${JSON.stringify(k.endpoint)}, region: 'eu-central-1', credentials: { accessKeyId: 'k', secretAccessKey: 'k' }, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
    const data = Array.from({ length: 500 }, () => randomBytes(${recordBytes}));
    let left = ${RECORDS};
    const t0 = process.hrtime.bigint();
    const worker = async () => { while (left > 0) { const n = Math.min(500, left); left -= n; const r = await c.send(new PutRecordsCommand({ StreamName: ${JSON.stringify(stream)}, Records: data.slice(0, n).map((Data) => ({ Data, PartitionKey: randomUUID() })) })); if (r.FailedRecordCount) throw new Error('failed ' + r.FailedRecordCount); } };
    Promise.all(Array.from({ length: ${IN_FLIGHT} }, worker)).then(() => { console.log(${RECORDS} / (Number(process.hrtime.bigint() - t0) / 1e9)); });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  let cpu = 0;
  const sample = setInterval(() => { cpu = Math.max(cpu, cpuSecondsOf([child.pid])); }, 50);
  await new Promise((r) => child.on('exit', r));
  clearInterval(sample);
  return { recordsPerSecond: Number(out.trim()), cpuUsPerRecord: (cpu * 1e6) / RECORDS };
}

/** Polls every shard of `stream` from now on; calls onRecord(data, seenMs) for each record. */
async function tailStream(k, stream, onRecord) {
  const shards = (await k.reader.send(new ListShardsCommand({ StreamName: stream }))).Shards;
  const its = await Promise.all(shards.map(async (s) => (await k.reader.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId, ShardIteratorType: 'LATEST' }))).ShardIterator));
  let running = true;
  const loops = its.map(async (it) => {
    while (running) {
      const r = await k.reader.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      const now = performance.timeOrigin + performance.now();
      for (const rec of r.Records) onRecord(Buffer.from(rec.Data), now);
      it = r.NextShardIterator;
      if (r.Records.length === 0) await new Promise((res) => setTimeout(res, 2));
    }
  });
  return async () => { running = false; await Promise.all(loops); };
}

const pct = (h) => ({ p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 });

/** Acknowledgement to readable at `rate` req/s (open loop, keep-alive). */
async function latencyAt(k, rate) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-stream-lat-'));
  const stream = `lat-${rate}-${randomUUID().slice(0, 8)}`;
  await createStream(k, stream);
  await createStream(k, `${stream}-bad`);
  const c = await startCollector(k, stream, dir);
  await new Promise((r) => setTimeout(r, 1500));
  const acked = new Map();
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  // The reader may see a record before the client has read its 200: both times are kept, and
  // the latency is taken at the end (0 when readable first).
  const seenAt = new Map();
  const stop = await tailStream(k, stream, (data, at) => {
    const eid = /eid=([^&]+)/.exec(decodeCollectorPayload(data).querystring ?? '')?.[1];
    if (eid !== undefined && !seenAt.has(eid)) seenAt.set(eid, at);
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = rate * SECONDS;
  const t0 = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        const eid = `e${sent++}`;
        http.get({ host: '127.0.0.1', port: c.port, path: `/i?e=pv&eid=${eid}`, agent }, (res) => { res.resume(); if (res.statusCode === 200) acked.set(eid, performance.timeOrigin + performance.now()); });
      }
      if (sent >= total) resolve(); else setTimeout(tick, 1);
    };
    tick();
  });
  const until = Date.now() + 10_000;
  while ([...acked.keys()].some((e) => !seenAt.has(e)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await stop();
  let seen = 0;
  for (const [eid, a] of acked) {
    const at = seenAt.get(eid);
    if (at === undefined) continue;
    seen++;
    h.recordValue(Math.max(1, Math.round((at - a) * 1000)));
  }
  agent.destroy();
  await c.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rate, acked: acked.size, readable: seen, ...pct(h) };
}

/** The floor: a bare client's records from the start of their PutRecords call to readable, at `rate` records/s in calls of 10. */
async function floorAt(k, rate) {
  const stream = `floor-${rate}-${randomUUID().slice(0, 8)}`;
  await createStream(k, stream);
  const confirmed = new Map();
  const seenAt = new Map();
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const stop = await tailStream(k, stream, (data, at) => { const d = data.toString(); if (!seenAt.has(d)) seenAt.set(d, at); });
  const calls = (rate * SECONDS) / 10;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const recs = Array.from({ length: 10 }, (_, j) => `r${i}-${j}`);
    // From the call's start: the moment the records are there to send, as an acknowledgement is for the sink.
    const sentAt = performance.timeOrigin + performance.now();
    void k.client.send(new PutRecordsCommand({ StreamName: stream, Records: recs.map((d) => ({ Data: Buffer.from(d), PartitionKey: randomUUID() })) })).then(() => { for (const d of recs) confirmed.set(d, sentAt); });
    const wait = t0 + ((i + 1) * 10_000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 2000));
  await stop();
  for (const [d, c] of confirmed) { const at = seenAt.get(d); if (at !== undefined) h.recordValue(Math.max(1, Math.round((at - c) * 1000))); }
  return pct(h);
}

async function main() {
  // This process (load, reader) shares CPU 1 with kinesalite; the collector has CPU 0.
  require('node:child_process').spawnSync('taskset', ['-pc', '1', String(process.pid)]);
  // A fresh kinesalite for each measurement: it keeps every record in memory, and a store holding
  // the earlier runs' records answers slower.
  const fresh = async (fn) => { const k = await startKinesalite(); try { return await fn(k); } finally { k.stop(); } };
  const sink = [];
  const bare = [];
  const sinkCpu = [];
  const bareCpu = [];
  let recordBytes = 0;
  for (let rep = 0; rep < (ONLY === 'latency' ? 0 : REPS); rep++) {
    const s = await fresh((k) => sinkThroughput(k, rep));
    recordBytes = s.recordBytes;
    const b = await fresh((k) => bareThroughput(k, recordBytes, rep));
    sink.push(s.recordsPerSecond);
    bare.push(b.recordsPerSecond);
    sinkCpu.push(s.cpuUsPerRecord);
    bareCpu.push(b.cpuUsPerRecord);
    console.error(`rep ${rep}: sink ${fmt(s.recordsPerSecond)} records/s (${fmt(s.cpuUsPerRecord, 1)} µs CPU/record), bare ${fmt(b.recordsPerSecond)} records/s (${fmt(b.cpuUsPerRecord, 1)} µs CPU/record), ${recordBytes} B records`);
  }
  const lat = [];
  for (const rate of ONLY === 'throughput' ? [] : [1000, 5000]) {
    const floor = await fresh((k) => floorAt(k, rate));
    const sinkLat = await fresh((k) => latencyAt(k, rate));
    console.error(`${rate} req/s: ack to readable p50 ${fmt(sinkLat.p50, 1)} ms, p99 ${fmt(sinkLat.p99, 1)} ms; floor p50 ${fmt(floor.p50, 1)}, p99 ${fmt(floor.p99, 1)}`);
    lat.push({ ...sinkLat, floor });
  }
  console.log(JSON.stringify({ records: RECORDS, recordBytes, inFlight: IN_FLIGHT, shards: SHARDS, sinkRecordsPerSecond: median(sink), bareRecordsPerSecond: median(bare), ratio: median(sink) / median(bare), sinkCpuUsPerRecord: median(sinkCpu), bareCpuUsPerRecord: median(bareCpu), sinkRuns: sink, bareRuns: bare, latency: lat }));
}

main().catch((e) => { console.error(e); process.exit(1); });
