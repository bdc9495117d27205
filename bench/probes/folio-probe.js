#!/usr/bin/env node
// Why the WAL's spare segments are zero-filled 4 KiB per write (src/wal/preallocator.ts).
// For each chunk size: zero-fill a 64 MiB file with writes of that size, fdatasync, map it
// (MAP_SHARED, as SegmentWriter does), then append 1,500-byte records into the mapping with an
// fdatasync every GROUP records (a group commit; 32 by default) over the first 32 MiB. Prints per
// chunk size: time to prepare the file, µs per record written into the map (its write faults),
// µs per sync, the process's minor faults and the bytes the disk was sent per sync
// (/proc/self/io write_bytes).
//
//   node bench/probes/folio-probe.js [--dir DIR]    # default: a temporary directory
//   node bench/probes/folio-probe.js --group 1      # a sync per record, as below saturation
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mmap = require('@riaskov/mmap-io');
const { options } = require('../harness/cli');

const opts = options('node bench/probes/folio-probe.js [options]: zero-fill chunk size against write faults and sync cost', {
  dir: { kind: 'string', help: 'a folder on the disk under test (default: a temporary one, removed after)' },
  group: { kind: 'number', default: 32, help: 'records per fdatasync' },
});
const DIR = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-folio-'));
const SIZE = 64 * 1024 * 1024;
const RECORD = 1500;
const GROUP = opts.group;
const CHUNKS = [1024 * 1024, 64 * 1024, 16 * 1024, 4 * 1024];

const writeBytes = () => Number(/write_bytes: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))[1]);
const minorFaults = () => Number(fs.readFileSync('/proc/self/stat', 'utf8').split(' ')[9]);

function probe(chunk) {
  const file = path.join(DIR, `probe-${chunk}.seg`);
  const fd = fs.openSync(file, 'w+');
  const t0 = process.hrtime.bigint();
  const zeros = Buffer.alloc(chunk);
  for (let p = 0; p < SIZE; p += chunk) fs.writeSync(fd, zeros, 0, chunk, p);
  fs.fdatasyncSync(fd);
  const prepareMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const map = mmap.map(SIZE, 3, mmap.MAP_SHARED, fd, 0, mmap.MADV_SEQUENTIAL);
  const record = Buffer.alloc(RECORD, 7);
  const wb0 = writeBytes();
  const f0 = minorFaults();
  let off = 0;
  let writeNs = 0n;
  let syncNs = 0n;
  let syncs = 0;
  while (off + RECORD * GROUP < SIZE / 2) {
    const a = process.hrtime.bigint();
    for (let i = 0; i < GROUP; i++) { map.set(record, off); off += RECORD; }
    const b = process.hrtime.bigint();
    fs.fdatasyncSync(fd);
    syncs++;
    syncNs += process.hrtime.bigint() - b;
    writeNs += b - a;
  }
  const records = off / RECORD;
  const row = {
    chunk: `${chunk / 1024} KiB`,
    prepareMs: Math.round(prepareMs),
    usPerRecord: (Number(writeNs) / 1e3 / records).toFixed(2),
    usPerSync: Math.round(Number(syncNs) / 1e3 / syncs),
    faults: minorFaults() - f0,
    kibPerSync: ((writeBytes() - wb0) / syncs / 1024).toFixed(1),
  };
  fs.closeSync(fd);
  fs.rmSync(file);
  return row;
}

console.log(`| zero-fill chunk | prepare 64 MiB | µs per record | µs per sync | faults | KiB to disk per sync (data: ${(RECORD * GROUP / 1024).toFixed(1)}) |`);
console.log('|---|---|---|---|---|---|');
for (const chunk of CHUNKS) {
  const r = probe(chunk);
  console.log(`| ${r.chunk} | ${r.prepareMs} ms | ${r.usPerRecord} | ${r.usPerSync} | ${r.faults} | ${r.kibPerSync} |`);
}
if (opts.dir === undefined) fs.rmSync(DIR, { recursive: true, force: true });
