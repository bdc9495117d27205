// Consolidation memory (issue 5): peak RSS of `sluice consolidate` for an hour of N files and for
// an hour of 10 x N files of the same size; streaming keeps them within 20%.
//   node bench/probes/consolidate-rss-bench.js [--files 30] [--records 2000]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT } = require('../harness/lib');
const { options } = require('../harness/cli');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const opts = options('node bench/probes/consolidate-rss-bench.js [options]: peak RSS of sluice consolidate, N files against 10 x N', {
  files: { kind: 'number', default: 30, help: 'files in the small hour' },
  records: { kind: 'number', default: 2000, help: 'records per file' },
});
const FILES = opts.files;
const RECORDS = opts.records;
const { S3Client, PutObjectCommand, CreateBucketCommand } = require(path.join(ROOT, 'node_modules', '@aws-sdk', 'client-s3'));
const { writeLzoFile } = require(path.join(ROOT, 'dist', 'ship', 'segment-files'));
const { encodeCollectorPayload, COLLECTOR_PAYLOAD_SCHEMA } = require(path.join(ROOT, 'dist', 'payload', 'collector-payload'));

async function main() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-consol-bench-'));
  const s3p = spawn(process.execPath, ['-e', `new (require(${JSON.stringify(path.join(ROOT, 'node_modules', 's3rver'))}))({ address: '127.0.0.1', port: 0, directory: ${JSON.stringify(path.join(base, 's3'))}, silent: true }).run().then((a) => console.log('PORT ' + a.port))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  s3Child = s3p;
  const port = await new Promise((r) => s3p.stdout.on('data', (d) => { const m = /PORT (\d+)/.exec(String(d)); if (m) r(Number(m[1])); }));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const query = 'e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2F' + 'x'.repeat(500);
  const rows = [];
  for (const [hour, files] of [['2026-11-26T01', FILES], ['2026-11-26T02', FILES * 10]]) {
    // Each record carries 300 random bytes (base64), so files compress about as real traffic does.
    const { randomBytes } = require('node:crypto');
    const records = Array.from({ length: RECORDS }, (_, i) => encodeCollectorPayload({ schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '198.51.100.7', timestamp: Date.now(), encoding: 'UTF-8', collector: 'sluice-bench-wal', path: '/i', querystring: `${query}&eid=${i}&r=${randomBytes(300).toString('base64url')}`, headers: ['Host: c.acme.com'], networkUserId: '6f2b4ab3-6a16-4a2a-9c2c-5a4f0f4f2d10' }));
    const { file, index } = writeLzoFile(records, path.join(base, 'in.lzo'), 0);
    const body = fs.readFileSync(file.path);
    const idx = fs.readFileSync(index.path);
    const folder = `raw/2026/11/26/${hour.slice(-2)}`;
    for (let f = 0; f < files; f++) {
      const key = `${folder}/11111111-1111-4111-8111-111111111111-${String(f).padStart(20, '0')}.lzo`;
      await client.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));
      await client.send(new PutObjectCommand({ Bucket: 'bench', Key: `${key}.index`, Body: idx }));
    }
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'consolidate', '--hour', hour], {
      encoding: 'utf8', env: { ...process.env, SLUICE_S3_ENDPOINT: endpoint, SLUICE_S3_BUCKET: 'bench', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    });
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr);
    if (r.status !== 0) throw new Error(r.stderr);
    rows.push({ hour, files, inputMiB: (body.length * files) / 1048576, records: RECORDS * files, peakRssMiB: Number(rss[1]) / 1024, wall: wall[1] });
  }
  s3p.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
  console.log('| hour | input files | input MiB (LZO) | records | peak RSS MiB | wall |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.hour} | ${r.files} | ${r.inputMiB.toFixed(1)} | ${r.records.toLocaleString('en-US')} | ${r.peakRssMiB.toFixed(0)} | ${r.wall} |`);
  const ratio = rows[1].peakRssMiB / rows[0].peakRssMiB;
  console.log(`\npeak RSS ratio (10x data / 1x): ${ratio.toFixed(2)} (${ratio <= 1.2 ? 'within' : 'OVER'} 20%)`);
}
let s3Child = null;
process.on('exit', () => { if (s3Child !== null) s3Child.kill('SIGKILL'); });
main().catch((e) => { console.error(e); process.exit(1); });
