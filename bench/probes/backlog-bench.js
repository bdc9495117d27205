// Shipping backlog benchmark (issue 4): HTTP p99 of the GET pixel with an empty WAL and with a
// 1 GiB backlog of sealed segments being shipped to s3rver, in one run. The collector (HTTP and
// shipper threads) is pinned to CPU 0; wrk and s3rver share CPU 1.
//   node bench/probes/backlog-bench.js [--backlog-mib 1024] [--seconds 10] [--reps 2]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startSluice, measure, median, fmt, wrk, ROOT } = require('../harness/lib');
const { options } = require('../harness/cli');

const opts = options('node bench/probes/backlog-bench.js [options]: GET p99 with an empty WAL and with a shipping backlog', {
  'backlog-mib': { kind: 'number', default: 1024, help: 'MiB of sealed segments to ship' },
  seconds: { kind: 'number', default: 10, help: 'seconds per measurement' },
  reps: { kind: 'number', default: 2, help: 'repetitions (medians)' },
});
const BACKLOG_MIB = opts.backlogMib;
const DUR = opts.seconds;
const REPS = opts.reps;
const PORT = 8092;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Fills a WAL directory with ~BACKLOG_MIB of sealed segments of realistic records. */
async function makeBacklog(dir) {
  const { WriteAheadLog } = require(path.join(ROOT, 'dist', 'wal', 'write-ahead-log'));
  const { encodeCollectorPayload, COLLECTOR_PAYLOAD_SCHEMA } = require(path.join(ROOT, 'dist', 'payload', 'collector-payload'));
  const wal = WriteAheadLog.open({ dir, durability: 'none', segmentBytes: 64 * 1024 * 1024, maxSegmentAgeMs: 3_600_000, maxPendingRecords: 1e6, maxUnshippedBytes: 1e13, minFreeBytes: 0, maxSyncLatencyMs: 1e6, spareSegments: 1, recycleSegments: 0, log: { info() {}, warn() {} } });
  const query = fs.readFileSync(path.join(require('../harness/lib').ANCHORS, 'i-query.txt'), 'utf8').trim();
  let bytes = 0;
  let i = 0;
  const waiter = { onCommitted() {} };
  while (bytes < BACKLOG_MIB * 1024 * 1024) {
    const rec = encodeCollectorPayload({ schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '203.0.113.9', timestamp: Date.now(), encoding: 'UTF-8', collector: 'sluice-bench-wal', path: '/i', querystring: `${query}&eid=${i++}`, headers: ['Host: c.acme.com', 'User-Agent: Mozilla/5.0'], networkUserId: '6f2b4ab3-6a16-4a2a-9c2c-5a4f0f4f2d10' });
    // Refused while the next segment is still being preallocated: wait for it.
    for (let tries = 0; !wal.submit([rec], [], waiter); tries++) {
      if (tries > 2000) throw new Error(`backlog WAL refused: ${wal.refusal()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    bytes += rec.length + 9;
    if (i % 50_000 === 0) await new Promise((r) => setImmediate(r));
  }
  await wal.close();
  return bytes;
}

async function startS3(dir) {
  const child = spawn('taskset', ['-c', '1', process.execPath, '-e', `
    const S3rver = require(${JSON.stringify(path.join(ROOT, 'node_modules', 's3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, directory: ${JSON.stringify(dir)}, silent: true }).run().then((a) => console.log('PORT ' + a.port));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.on('data', (d) => { const m = /PORT (\d+)/.exec(String(d)); if (m) resolve(Number(m[1])); }));
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

async function main() {
  const rows = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const backlog of rep % 2 ? [true, false] : [false, true]) {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-backlog-'));
      const walDir = path.join(base, 'wal');
      const made = backlog ? await makeBacklog(walDir) : 0;
      const s3 = await startS3(path.join(base, 's3'));
      const env = { SLUICE_WAL_DIR: walDir, SLUICE_S3_ENDPOINT: s3.endpoint, SLUICE_S3_BUCKET: 'bench', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
      const srv = await startSluice(env, PORT);
      try {
        await new Promise((r) => setTimeout(r, 1500));
        wrk('get', PORT, 2);
        const left0 = fs.readdirSync(walDir).filter((n) => n.endsWith('.seg')).length;
        const m = measure('get', PORT, srv.pid, DUR);
        const left1 = fs.readdirSync(walDir).filter((n) => n.endsWith('.seg')).length;
        rows.push({ rep, backlog, backlogMiB: made / 1048576, segmentsShippedDuringRun: Math.max(0, left0 - left1), ...m });
      } finally {
        await srv.stop();
        s3.stop();
        fs.rmSync(base, { recursive: true, force: true });
      }
    }
  }
  const out = path.join(__dirname, '..', 'results', `backlog-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ machine: `${os.cpus().length} x ${os.cpus()[0].model}`, rows }, null, 1));
  console.log(`GET /i, wrk -t1 -c64 -d${DUR}s, median of ${REPS}; collector on CPU 0 (HTTP + shipper threads), wrk and s3rver on CPU 1\n`);
  console.log('| WAL at start | req/s | p50 ms | p99 ms | max ms | segments shipped during the run |\n|---|---|---|---|---|---|');
  for (const b of [false, true]) {
    const rs = rows.filter((r) => r.backlog === b);
    console.log(`| ${b ? `${fmt(median(rs.map((r) => r.backlogMiB)))} MiB backlog` : 'empty'} | ${fmt(median(rs.map((r) => r.rps)))} | ${fmt(median(rs.map((r) => r.p50_ms)), 2)} | ${fmt(median(rs.map((r) => r.p99_ms)), 2)} | ${fmt(median(rs.map((r) => r.max_ms)), 1)} | ${median(rs.map((r) => r.segmentsShippedDuringRun))} |`);
  }
  console.log(`\nraw: ${path.relative(process.cwd(), out)}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
