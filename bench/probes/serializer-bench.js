// Serializer placement (issue 3): inline vs the piscina pool at several batch sizes, same load,
// interleaved. --server-cpus sets the server's cores (default 0: the one-core budget of the anchors).
//   node bench/probes/serializer-bench.js [--reps 2] [--seconds 5] [--server-cpus 0]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startSluice, measure, median, fmt, wrk } = require('../harness/lib');

const { options } = require('../harness/cli');
const opts = options('node bench/probes/serializer-bench.js [options]: inline serializer against the pool', {
  reps: { kind: 'number', default: 2, help: 'repetitions (medians)' },
  seconds: { kind: 'number', default: 5, help: 'seconds per measurement' },
  'server-cpus': { kind: 'string', default: '0', help: "the server's cores (taskset list)" },
});
const REPS = opts.reps;
const DUR = opts.seconds;
const PORT = 8091;
const variants = [
  { name: 'inline', env: { SLUICE_SERIALIZER: 'inline' }, config: { ship: { enabled: false } } },
  ...[8, 64, 256].map((b) => ({ name: `pool, 1 thread, batch ${b}`, env: { SLUICE_SERIALIZER: 'pool' }, config: { ship: { enabled: false }, wal: { serializer: 'pool', serializerBatch: b } } })),
];

async function main() {
  const rows = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const v of rep % 2 ? [...variants].reverse() : variants) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-ser-'));
      const env = { ...v.env, SLUICE_WAL_DIR: path.join(dir, 'wal') };
      const args = [];
      if (v.config) {
        fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify(v.config));
        args.push('--config', path.join(dir, 'c.json'));
      }
      const srv = await startSluice(env, PORT, args, opts.serverCpus);
      try {
        wrk('get', PORT, 2);
        for (const kind of ['get', 'post']) rows.push({ variant: v.name, kind, ...measure(kind, PORT, srv.pid, DUR) });
      } finally {
        await srv.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`median of ${REPS}, server CPUs ${opts.serverCpus}, wrk -c64 -d${DUR}s, durability fsync\n`);
  console.log('| serializer | GET req/s | GET p99 ms | GET CPU s/100k | POST req/s | POST p99 ms | POST CPU s/100k |\n|---|---|---|---|---|---|---|');
  for (const v of variants) {
    const g = rows.filter((r) => r.variant === v.name && r.kind === 'get');
    const p = rows.filter((r) => r.variant === v.name && r.kind === 'post');
    console.log(`| ${v.name} | ${fmt(median(g.map((r) => r.rps)))} | ${fmt(median(g.map((r) => r.p99_ms)), 1)} | ${fmt(median(g.map((r) => r.cpu_s_per_100k)), 2)} | ${fmt(median(p.map((r) => r.rps)))} | ${fmt(median(p.map((r) => r.p99_ms)), 1)} | ${fmt(median(p.map((r) => r.cpu_s_per_100k)), 2)} |`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
