// WAL benchmark (issue 3): Sluice with fsync acknowledgements and with `durability none`, beside a
// plain fs.writeSync append loop, interleaved in one run, server on CPU 0 and wrk on CPU 1.
//   node bench/probes/wal-bench.js [--reps 3] [--seconds 8] [--port 8090]   (needs wrk and `npm run build`)
// Writes bench/results/wal-<time>.json and prints a Markdown table.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startSluice, measure, median, fmt, wrk } = require('../harness/lib');

const { options } = require('../harness/cli');
const opts = options('node bench/probes/wal-bench.js [options]: fsync acks against durability none and a plain append loop', {
  reps: { kind: 'number', default: 3, help: 'repetitions (medians)' },
  seconds: { kind: 'number', default: 8, help: 'seconds per measurement' },
  port: { kind: 'number', default: 8090, help: "the collector's port" },
});
const REPS = opts.reps;
const DUR = opts.seconds;
const PORT = opts.port;

const variants = [
  { name: 'Sluice, durability fsync (acknowledged = synced)', env: { SLUICE_DURABILITY: 'fsync' } },
  { name: 'Sluice, durability none (benchmarks only)', env: { SLUICE_DURABILITY: 'none' } },
];

async function main() {
  const rows = [];
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const walDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-wal-'));
      // The WAL alone: no shipper competing for the server's core (bench/probes/backlog-bench.js has it).
      const cfg = path.join(walDir, 'bench.json');
      fs.writeFileSync(cfg, JSON.stringify({ ship: { enabled: false } }));
      const srv = await startSluice({ ...v.env, SLUICE_WAL_DIR: path.join(walDir, 'wal') }, PORT, ['--config', cfg]);
      try {
        wrk('get', PORT, 2); // warm-up, unrecorded
        for (const kind of ['get', 'post']) rows.push({ rep, variant: v.name, kind, ...measure(kind, PORT, srv.pid, DUR) });
      } finally {
        await srv.stop();
        fs.rmSync(walDir, { recursive: true, force: true });
      }
    }
    const a = spawnSync('taskset', ['-c', '0', process.execPath, path.join(__dirname, 'append-loop.js'), '--seconds', '3', '--record-bytes', '1200'], { encoding: 'utf8' });
    const m = /APPENDJSON (\{.*\})/.exec(a.stdout);
    if (m) rows.push({ rep, variant: 'plain fs.writeSync append loop', kind: 'append', ...JSON.parse(m[1]) });
  }
  const out = path.join(__dirname, '..', 'results', `wal-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ machine: `${os.cpus().length} x ${os.cpus()[0].model}, ${os.release()}, node ${process.version}`, reps: REPS, seconds: DUR, rows }, null, 1));
  const lines = ['| scenario | request | events/s | p50 ms | p99 ms | CPU s / 100k | peak RSS MiB | errors + non-2xx |', '|---|---|---|---|---|---|---|---|'];
  for (const v of variants) {
    for (const kind of ['get', 'post']) {
      const rs = rows.filter((r) => r.variant === v.name && r.kind === kind);
      const perEvent = kind === 'post' ? 3 : 1; // the tp2 body carries 3 events
      lines.push(`| ${v.name} | ${kind === 'get' ? 'GET /i pixel' : 'POST tp2 (3 events)'} | ${fmt(median(rs.map((r) => r.rps * perEvent)))} (${fmt(median(rs.map((r) => r.rps)))} req/s) | ${fmt(median(rs.map((r) => r.p50_ms)), 2)} | ${fmt(median(rs.map((r) => r.p99_ms)), 2)} | ${fmt(median(rs.map((r) => r.cpu_s_per_100k)), 2)} | ${fmt(median(rs.map((r) => r.peak_rss_mib)))} | ${rs.reduce((n, r) => n + r.errors + r.non2xx, 0)} |`);
    }
  }
  const ap = rows.filter((r) => r.kind === 'append');
  lines.push(`| plain fs.writeSync loop, 1,200-byte records, no sync | - | ${fmt(median(ap.map((r) => r.nosync.records_per_s)))} records/s | - | - | - | - | - |`);
  lines.push(`| plain fs.writeSync loop + fdatasync every 64 records | - | ${fmt(median(ap.map((r) => r.fdatasync64.records_per_s)))} records/s | ${fmt(median(ap.map((r) => r.fdatasync64.commit_p50_ms)), 2)} (commit) | ${fmt(median(ap.map((r) => r.fdatasync64.commit_p99_ms)), 2)} (commit) | - | - | - |`);
  console.log(`median of ${REPS} interleaved runs, wrk -t1 -c64 -d${DUR}s, server on CPU 0, wrk on CPU 1\n`);
  console.log(lines.join('\n'));
  console.log(`\nraw: ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
