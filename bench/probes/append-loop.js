// The plain baseline: records appended to a file with fs.writeSync, one call per record, no sync
// (what a non-durable access log does), then the same with an fdatasync every 64 records.
//   node bench/probes/append-loop.js [--seconds 3] [--record-bytes 1200] [--dir DIR]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { options } = require('../harness/cli');
const opts = options('node bench/probes/append-loop.js [options]: appends with writeSync, then with fdatasync every 64', {
  seconds: { kind: 'number', default: 3, help: 'seconds per variant' },
  'record-bytes': { kind: 'number', default: 1200, help: 'bytes per record' },
  dir: { kind: 'string', default: os.tmpdir(), help: 'a folder on the disk under test' },
});

function run(seconds, size, syncEvery) {
  const dir = fs.mkdtempSync(path.join(opts.dir, 'sluice-append-'));
  const file = path.join(dir, 'log');
  const fd = fs.openSync(file, 'a');
  const rec = Buffer.alloc(size, 0x61);
  const lat = [];
  let n = 0;
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let groupStart = process.hrtime.bigint();
  while (process.hrtime.bigint() < end) {
    fs.writeSync(fd, rec);
    n++;
    if (syncEvery > 0 && n % syncEvery === 0) {
      fs.fdatasyncSync(fd);
      const now = process.hrtime.bigint();
      lat.push(Number(now - groupStart) / 1e6);
      groupStart = now;
    }
  }
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { records_per_s: n / seconds, commit_p50_ms: lat.length ? lat[Math.floor(lat.length / 2)] : null, commit_p99_ms: lat.length ? lat[Math.floor(lat.length * 0.99)] : null };
}

const seconds = opts.seconds;
const size = opts.recordBytes;
console.log(`APPENDJSON ${JSON.stringify({ nosync: run(seconds, size, 0), fdatasync64: run(seconds, size, 64) })}`);
