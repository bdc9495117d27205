#!/usr/bin/env node
// Latency at the same offered load: an open-loop load generator (raw keep-alive sockets, the
// anchors' GET pixel request) that sends RATE requests per second whatever the server does, and
// measures each latency from the moment the request was due (no coordinated omission), into an
// HDR histogram (µs). wrk and autocannon measure at saturation, where each server runs at its own
// rate; the p99 target compares servers at the same load, which is this.
//
//   node bench/harness/fixed-rate.js --port 8090 [--rate 10000] [--seconds 20] [--conns 64] [--warmup 2]
//
// The first `--warmup` seconds run at the same rate and are not counted: they take the server's JIT
// and first page faults (and the generator's own) out of a figure about the steady state.
//
// Prints one JSON line: sent, answered, non2xx, late (requests that found no free connection when
// due and were sent later), resent (requests in flight on a connection the server closed: sent
// again on another, their latency still counted from when they were due; uWS closes keep-alive
// connections idle for about 10 s, and idle connections are reused last first, so a few idle
// that long), reconnects (connections the server closed, each replaced by a new one),
// p50/p90/p99/p99.9/max in ms. Run it pinned (taskset -c 1 node …)
// beside a server pinned to CPU 0 (taskset -c 0), one server at a time.
'use strict';
const net = require('node:net');
const hdr = require('hdr-histogram-js');
const { anchorPixelRequest } = require('./lib');
const { options } = require('./cli');

const opts = options('node bench/harness/fixed-rate.js --port PORT [options]: open-loop GET pixels at a fixed rate', {
  port: { kind: 'number', help: "the server's loopback port (required)" },
  rate: { kind: 'number', default: 10000, help: 'requests per second offered' },
  seconds: { kind: 'number', default: 20, help: 'seconds counted (after the warm-up)' },
  conns: { kind: 'number', default: 64, help: 'keep-alive connections' },
  warmup: { kind: 'number', default: 2, help: 'seconds at the same rate, not counted' },
});
if (opts.port === undefined) { console.error('--port is required (--help)'); process.exit(2); }
const port = opts.port;
const RATE = opts.rate;
const DURATION_MS = opts.seconds * 1000;
const CONNS = opts.conns;
const WARMUP_MS = opts.warmup * 1000;
let countFrom = Number.POSITIVE_INFINITY; // due time from which requests count

const pixel = anchorPixelRequest();
const headers = ['Host: 127.0.0.1', `Accept: ${pixel.accept}`, ...pixel.headers.map(([k, v]) => `${k}: ${v}`)];
const REQUEST = Buffer.from(`GET /i?${pixel.query} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1');

const CRLF2 = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = Buffer.from('Content-Length: ');
const CONTENT_LENGTH_LOWER = Buffer.from('content-length: ');
const EMPTY = Buffer.alloc(0);
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const stats = { sent: 0, answered: 0, non2xx: 0, late: 0, errors: 0, resent: 0, reconnects: 0 };
let stopped = false;
const MAX_RECONNECTS = 100 * CONNS;
const idle = [];
const due = []; // due times (ms, performance.now) of requests waiting for a free connection

function connect() {
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.setNoDelay(true);
  const c = { socket, buf: EMPTY, dueAt: 0, busy: false, connected: false };
  socket.on('connect', () => { c.connected = true; next(c); });
  socket.on('data', (chunk) => {
    // Allocation-light parsing (the generator's own GC pauses would show up as latency).
    let buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    let off = 0;
    for (;;) {
      const end = buf.indexOf(CRLF2, off);
      if (end < 0) break;
      let cl = buf.indexOf(CONTENT_LENGTH, off);
      if (cl < 0 || cl > end) cl = buf.indexOf(CONTENT_LENGTH_LOWER, off);
      let length = 0;
      if (cl >= 0 && cl < end) for (let i = cl + CONTENT_LENGTH.length; buf[i] >= 0x30 && buf[i] <= 0x39; i++) length = length * 10 + buf[i] - 0x30;
      const total = end + 4 + length;
      if (buf.length < total) break;
      if (c.dueAt >= countFrom) {
        stats.answered++;
        if (buf[off + 9] !== 0x32) stats.non2xx++;
        histogram.recordValue(Math.max(1, Math.round((performance.now() - c.dueAt) * 1000)));
      }
      off = total;
      c.busy = false;
      next(c);
    }
    c.buf = off === buf.length ? EMPTY : buf.subarray(off);
  });
  socket.on('error', () => { stats.errors++; });
  // The server closed the connection (idle timeout, error): a request in flight on it goes out
  // again on another connection, due when it was due; a new connection takes this one's place.
  socket.on('close', () => {
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
    if (c.busy) {
      c.busy = false;
      if (c.dueAt >= countFrom) { stats.sent--; stats.resent++; }
      due.unshift(c.dueAt);
    }
    // Only a connection that was up is replaced (a refused one is an error, not retried), and at
    // most MAX_RECONNECTS times in a run: a server that closes every connection ends up with none.
    if (!stopped && c.connected && stats.reconnects < MAX_RECONNECTS) { stats.reconnects++; connect(); }
  });
}

/** Sends the oldest waiting request on `c`, or parks `c` as idle. */
function next(c) {
  const at = due.shift();
  if (at === undefined) { idle.push(c); return; }
  send(c, at);
}

function send(c, at) {
  c.dueAt = at;
  c.busy = true;
  if (at >= countFrom) stats.sent++;
  c.socket.write(REQUEST);
}

for (let i = 0; i < CONNS; i++) connect();
setTimeout(() => {
  const start = performance.now();
  countFrom = start + WARMUP_MS;
  let issued = 0;
  // A setImmediate loop, not a 1 ms timer: requests go out when due, not in per-tick bursts
  // (the generator has CPU 1 to itself).
  const tick = () => {
    const now = performance.now();
    const elapsed = now - start;
    const target = Math.min(Math.floor((elapsed * RATE) / 1000), Math.floor(((WARMUP_MS + DURATION_MS) * RATE) / 1000));
    for (; issued < target; issued++) {
      const at = start + (issued * 1000) / RATE;
      const c = idle.pop();
      if (c === undefined) {
        due.push(at);
        if (at >= countFrom) stats.late++;
      } else send(c, at);
    }
    if (elapsed >= WARMUP_MS + DURATION_MS) {
      // Let the last answers arrive (bounded), then report.
      setTimeout(report, 2000);
      return;
    }
    setImmediate(tick);
  };
  setImmediate(tick);
}, 500);

function report() {
  stopped = true;
  const q = (p) => Number((histogram.getValueAtPercentile(p) / 1000).toFixed(2));
  console.log(JSON.stringify({ rate: RATE, seconds: DURATION_MS / 1000, warmup: WARMUP_MS / 1000, ...stats, unanswered: stats.sent - stats.answered, p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: Number((histogram.maxValue / 1000).toFixed(2)) }));
  process.exit(0);
}
