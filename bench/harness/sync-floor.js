#!/usr/bin/env node
// The latency floor that fsync acknowledgements put under any collector on this disk, with no
// HTTP and no CPU contention: first it measures bare fdatasync latencies (1.1 KB written at the
// end of a zero-filled file, then fdatasync, SYNCS times), then it replays an open-loop load of
// RATE requests/s against a group commit whose syncs take exactly those measured times (a sync
// starts as soon as the previous one ends if a request waits, else at the next arrival; each
// request is answered when the first sync that started at or after its arrival ends). The replay's
// percentiles are what no implementation of "answer after fdatasync" can beat here; compare them
// with the p99 of bench/harness/fixed-rate.js at the same rate.
//
//   node bench/harness/sync-floor.js [--dir ./data] [--syncs 20000] [--rates "5000 10000"]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { options } = require('./cli');

const opts = options('node bench/harness/sync-floor.js [options]: the fdatasync latency floor on a disk', {
  dir: { kind: 'string', default: path.join(__dirname, '..', '..', 'data'), help: 'a folder on the disk under test' },
  syncs: { kind: 'number', default: 20000, help: 'bare fdatasyncs measured' },
  rates: { kind: 'numbers', default: '5000 10000', help: 'offered loads (requests/s) replayed against them' },
});
const dir = opts.dir;
const SYNCS = opts.syncs;
const RATES = opts.rates;
const FILE_BYTES = 64 * 1024 * 1024;
const RECORD = Buffer.alloc(1100, 0x61);

function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  const ms = (v) => Number((v / 1000).toFixed(3));
  return { p50: ms(quantile(s, 50)), p90: ms(quantile(s, 90)), p99: ms(quantile(s, 99)), p999: ms(quantile(s, 99.9)), max: ms(s[s.length - 1]) };
}

/** Bare fdatasync latencies (µs) on `dir`'s file system. */
function measureSyncs() {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `sync-floor-${process.pid}.tmp`);
  const fd = fs.openSync(file, 'w+');
  const us = new Float64Array(SYNCS);
  try {
    const zeros = Buffer.alloc(16 * 1024);
    for (let off = 0; off < FILE_BYTES; off += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, off);
    fs.fdatasyncSync(fd);
    let off = 0;
    for (let i = 0; i < SYNCS; i++) {
      fs.writeSync(fd, RECORD, 0, RECORD.length, off);
      off = (off + RECORD.length) % (FILE_BYTES - RECORD.length);
      const t = process.hrtime.bigint();
      fs.fdatasyncSync(fd);
      us[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return us;
}

/** Request latencies (µs) of RATE arrivals/s against a group commit with these sync times. */
function replay(syncUs, rate) {
  const gap = 1e6 / rate;
  const latencies = [];
  let k = 0; // next sync time to use
  let syncEnd = 0; // end of the running sync (µs)
  let syncStart = -1;
  let arrival = 0;
  const pending = [];
  while (k < syncUs.length) {
    // Arrivals before the running sync ends wait for the next one.
    if (arrival < syncEnd) {
      pending.push(arrival);
      arrival += gap;
      continue;
    }
    // The running sync ended: the requests that arrived before it started are answered by it.
    if (syncStart >= 0) {
      while (pending.length > 0 && pending[0] <= syncStart) latencies.push(syncEnd - pending.shift());
    }
    if (pending.length > 0) {
      syncStart = syncEnd;
    } else {
      pending.push(arrival);
      syncStart = arrival;
      arrival += gap;
    }
    syncEnd = syncStart + syncUs[k++];
  }
  return latencies;
}

const syncs = measureSyncs();
const out = { dir: path.resolve(dir), syncs: SYNCS, fdatasync_ms: summary(syncs), floor: {} };
for (const rate of RATES) out.floor[rate] = summary(replay(syncs, rate));
console.log(JSON.stringify(out, null, 1));
