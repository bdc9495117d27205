// `sluice replay` of a dead instance's WAL with the stream sink on: the instance put part of its
// events, then lost the stream and was killed; replay, from another process, puts the rest into
// the stream from the WAL's own checkpoint (nothing the instance had put is sent again), ships
// to S3 as before, and deletes the segments only then.
import t from 'tap';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { sluice } from './helpers/cli';
import { request } from './helpers/http';
import { KINESIS_ENV } from './helpers/kinesis';
import { kinesisBehindProxy } from './helpers/kinesis-proxy';
import { metric } from './helpers/metrics';
import { decodeRecord } from './helpers/records';
import { BUCKET, shipEnv, startS3, waitFor } from './helpers/s3';
import { startServer } from './helpers/server';

const eidOf = (b: Buffer): string => new URLSearchParams(decodeRecord(b).querystring!).get('eid')!;

t.test('replay puts what a dead instance had not, from its checkpoint, then ships and deletes', async (t) => {
  const { kinesis, proxy } = await kinesisBehindProxy(t, ['good', 'bad'], 2);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const config = { collector: { streams: { good: { name: 'good', backoffPolicy: { minBackoff: 50, maxBackoff: 200, maxRetries: 3 } }, bad: { name: 'bad' } } }, ship: { enabled: false } };
  const s = await startServer({ config, env: { ...KINESIS_ENV, SLUICE_KINESIS_ENDPOINT: proxy.endpoint } });
  for (let i = 0; i < 100; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=before-${i}` })).status, 200);
  await waitFor('the first 100 in the stream and checkpointed', async () => ((await metric(s.adminPort!, 'sluice_stream_checkpoint_offset_bytes'))! > 0 && (await kinesis.readAll('good')).length === 100 ? true : null));
  await new Promise((r) => setTimeout(r, 700));
  proxy.mode = { kind: 'down' };
  for (let i = 0; i < 150; i++) t.equal((await request(s.port, { path: `/i?e=pv&eid=after-${i}` })).status, 200);
  s.proc.kill('SIGKILL');
  await s.exited;
  proxy.mode = { kind: 'pass' };

  const file = join(s.walDir, '..', 'replay.json');
  writeFileSync(file, JSON.stringify({ ...config, collector: { streams: { good: { name: 'good', customEndpoint: proxy.endpoint }, bad: { name: 'bad', customEndpoint: proxy.endpoint } } } }));
  const r = await sluice(['replay', s.walDir, '--config', file], { ...KINESIS_ENV, ...shipEnv(s3), SLUICE_S3_BUCKET: BUCKET });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /"from":"segment \d+ offset \d+"/, 'replay resumed from the instance\'s checkpoint');
  const counts = new Map<string, number>();
  for (const rec of await kinesis.readAll('good')) counts.set(eidOf(rec.data), (counts.get(eidOf(rec.data)) ?? 0) + 1);
  t.equal(counts.size, 250, 'all 250 acknowledged events are in the stream');
  t.ok([...counts.values()].every((n) => n === 1), 'each once: what the instance had put was not sent again');
  const objects = (await s3.list('raw/')).filter((o) => o.Key!.endsWith('.lzo'));
  t.ok(objects.length >= 1, 'and shipped to S3');
  t.equal(readdirSync(s.walDir).filter((n) => n.endsWith('.seg')).length, 0, 'the segments are deleted once both sinks have them');

  const down = await startServer({ config, env: { ...KINESIS_ENV, SLUICE_KINESIS_ENDPOINT: 'http://127.0.0.1:9' } });
  await request(down.port, { path: '/i?e=pv&eid=x' });
  down.proc.kill('SIGKILL');
  await down.exited;
  const fail = await sluice(['replay', down.walDir, '--config', file, '--stream-only'], { ...KINESIS_ENV, SLUICE_KINESIS_ENDPOINT: 'http://127.0.0.1:9' });
  t.equal(fail.status, 1, 'a stream that does not answer fails the replay');
  t.match(fail.stderr, /segments stay in the WAL/);
  t.equal(readdirSync(down.walDir).filter((n) => n.endsWith('.seg')).length, 1, 'and nothing is deleted');
});
