// wal.shards = 2: two HTTP threads on one port, each writing its own WAL shard, one shipper.
// Trackers' connections spread over both; every acknowledged event reaches S3 exactly once; the
// admin port adds both shards up; SIGTERM drains both; a sharded WAL left by a crash is refused
// by a start with another shard count and shipped by `sluice replay`.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from './helpers/http';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, parseBlocks } from './helpers/lzo-read';
import { BUCKET, shipEnv, startS3, waitFor, type TestS3 } from './helpers/s3';
import { startServer, walPayloads } from './helpers/server';
import { sluice } from './helpers/cli';
import { FrameKind } from '../src/wal/segment-format';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';

async function shippedCounts(s3: TestS3): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    for (const rec of parseBlocks(lzopDecompress(await s3.get(o.Key!))).records) {
      const r = decodeRecord(rec);
      const ids = r.path === '/i' ? [new URLSearchParams(r.querystring!).get('eid')!] : (JSON.parse(r.body!) as { data: Array<{ eid: string }> }).data.map((e) => e.eid);
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** Sends `n` events over `clients` parallel loops (a new connection each); the acknowledged ids. */
async function send(port: number, tag: string, n: number, clients = 8): Promise<Set<string>> {
  const acked = new Set<string>();
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < n; i = next++) {
      const id = `${tag}${i}`;
      const r = i % 4 === 3
        ? await request(port, { method: 'POST', path: TP2, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: id }] }) })
        : await request(port, { path: `/i?e=pv&eid=${id}` });
      if (r.status === 200) acked.add(id);
    }
  }));
  return acked;
}

t.test('two HTTP threads, two WAL shards, one shipper', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await startServer({ env: { ...shipEnv(s3, 2), SLUICE_WAL_SHARDS: '2' } });
  t.teardown(() => s.stop());
  t.match(s.output(), /"shards":2/, 'started with 2 shards');
  const acked = await send(s.port, 'sh', 800);
  t.equal(acked.size, 800, 'every event acknowledged');
  const perShard = [0, 1].map((i) => walPayloads(join(s.walDir, `shard-${i}`), FrameKind.Good).length + readdirSync(join(s.walDir, `shard-${i}`)).length);
  t.ok(perShard.every((n) => n > 0), `both shards took traffic (${perShard.join(', ')})`);

  const m = (await request(s.adminPort!, { path: '/metrics' })).text;
  const sample = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(m)?.[1]);
  t.equal(sample('sluice_http_requests_total{endpoint="pixel",method="GET",status="200"}') + sample('sluice_http_requests_total{endpoint="tp2",method="POST",status="200"}'), 800, 'the admin port adds up both shards');
  t.equal(sample('sluice_wal_records_appended_total{kind="good"}'), 800, 'records of both shards');
  t.match(m, /sluice_build_info\{version="[^"]+",commit="[^"]+",wal_instance="[0-9a-f-]{36},[0-9a-f-]{36}",shards="2"\} 1/, "two WAL instance ids");
  t.equal((await request(s.port, { path: '/health' })).status, 200, 'healthy');

  const counts = await waitFor('every event in S3', async () => {
    const c = await shippedCounts(s3);
    return [...acked].every((id) => c.has(id)) ? c : null;
  }, 30_000, 500);
  t.equal([...counts.values()].filter((n) => n > 1).length, 0, 'no event twice');
  const instances = new Set((await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo')).map((o) => /\/([0-9a-f-]{36})-\d{20}\.lzo$/.exec(o.Key!)![1]));
  t.equal(instances.size, 2, 'objects from both shards, under their own instance ids');

  const late = await send(s.port, 'late', 40);
  s.proc.kill('SIGTERM');
  t.equal(await s.exited, 0, 'SIGTERM: exit 0');
  const after = await shippedCounts(s3);
  t.ok([...late].every((id) => after.get(id) === 1), 'events acknowledged just before SIGTERM were shipped by the drain');
  for (const i of [0, 1]) t.same(readdirSync(join(s.walDir, `shard-${i}`)).filter((n) => n.endsWith('.seg')), [], `shard-${i} is empty after the drain`);
});

t.test('a crashed sharded WAL: another shard count is refused; replay ships every shard', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const first = await startServer({ config: { ship: { enabled: false } }, env: { SLUICE_WAL_SHARDS: '3' } });
  const acked = await send(first.port, 'cr', 300);
  await first.stop('SIGKILL');
  const one = await startServer({ config: { ship: { enabled: false } }, env: { SLUICE_WAL_DIR: first.walDir } }).then(() => null, (e: Error) => e.message);
  t.match(one, /wal\.dir holds segments of a run with another wal\.shards/, 'wal.shards 1 on a 3-shard WAL is refused');
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const r = await sluice(['replay', first.walDir], shipEnv(s3));
  t.equal(r.status, 0, r.stderr);
  t.equal((r.stdout.match(/"wal":/g) ?? []).length, 3, 'each shard replayed');
  const counts = await shippedCounts(s3);
  t.equal([...acked].filter((id) => !counts.has(id)).length, 0, `every acknowledged event shipped (${acked.size})`);
  t.equal([...counts.values()].filter((n) => n > 1).length, 0, 'none twice');
});
