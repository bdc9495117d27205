// The serializer pool gives the same bytes as the inline path; its queue bound answers 503.
import t from 'tap';
import { packJobs, unpackJobs } from '../src/payload/job-codec';
import type { RecordJob } from '../src/payload/record-job';
import { InlineSerializer } from '../src/payload/record-serializer';
import type { Serialized } from '../src/payload/split-batch';
import { request } from './helpers/http';
import { serverPool } from './helpers/server';

// The pool's worker is a compiled file: take the pool from dist/ (built by npm test).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PoolSerializer } = require('../dist/payload/record-serializer') as typeof import('../src/payload/record-serializer');
type PoolSerializer = InstanceType<typeof PoolSerializer>;

const ctx = { collector: 'sluice-test-wal', limits: { maxBytes: 1200, maxPayloadSize: 100_000 }, processor: { artifact: 'sluice', version: 'test' } };

function job(i: number): RecordJob {
  const post = i % 2 === 0;
  const events = Array.from({ length: i % 7 }, (_, k) => ({ e: 'pv', eid: `${i}-${k}`, url: 'u'.repeat(200 + k) }));
  return {
    timestamp: 1_700_000_000_000 + i, anonymous: i % 5 === 0, peer: '127.0.0.1', forwardedFor: i % 3 === 0 ? '192.0.2.1, 10.0.0.1' : null,
    path: post ? '/com.snowplowanalytics.snowplow/tp2' : '/i', query: post ? '' : `e=pv&x=${i}&u=%C3%A9`,
    body: post ? Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: events })) : null,
    contentType: post ? 'application/json' : null, userAgent: i % 4 === 0 ? null : 'UA é 🚀', referer: null, host: 'c.acme.com:443',
    nuid: `nuid-${i}`, names: ['host', 'cookie', 'x-forwarded-for', 'user-agent'], values: ['c.acme.com:443', 'sp=1; j={"a":1}', '192.0.2.1', 'UA é 🚀'],
  };
}

t.test('job codec round trip', async (t) => {
  const jobs = Array.from({ length: 50 }, (_, i) => job(i));
  t.same(unpackJobs(packJobs(jobs)), jobs);
});

t.test('pool and inline give identical records', async (t) => {
  const inline = new InlineSerializer(ctx);
  const pool = new PoolSerializer(ctx, { threads: 2, batch: 8, maxQueuedJobs: 1000 });
  t.teardown(() => pool.close());
  const collect = (s: InlineSerializer | PoolSerializer, j: RecordJob): Promise<Serialized> => new Promise((resolve, reject) => {
    s.serialize(j, { onSerialized: (r, e) => (r === null ? reject(e) : resolve(r)) });
  });
  const jobs = Array.from({ length: 100 }, (_, i) => job(i));
  const a = await Promise.all(jobs.map((j) => collect(inline, j)));
  const b = await Promise.all(jobs.map((j) => collect(pool, j)));
  const strip = (s: Serialized[]): Array<{ good: string[]; bad: string[] }> => s.map((x) => ({
    good: x.good.map((g) => g.toString('hex')),
    bad: x.bad.map((g) => JSON.stringify({ ...JSON.parse(g.toString()), data: { ...JSON.parse(g.toString()).data, failure: { ...JSON.parse(g.toString()).data.failure, timestamp: 0 } } })),
  }));
  t.same(strip(b), strip(a), 'same bytes for 100 jobs, including splits and bad rows');
  t.ok(a.some((x) => x.good.length > 1), 'some jobs were split');
});

t.test('the pool queue bound answers 503', async (t) => {
  const server = serverPool(t);
  const s = await server({ wal: { serializer: 'pool', serializerMaxQueuedJobs: 1, serializerBatch: 1 } });
  const statuses = await Promise.all(Array.from({ length: 40 }, () => request(s.port, { path: '/i' }).then((r) => r.status)));
  t.ok(statuses.includes(200), 'within the bound: 200');
  t.ok(statuses.every((x) => x === 200 || x === 503), 'over it: 503');
  t.equal(s.records().length, statuses.filter((x) => x === 200).length, 'exactly the acknowledged events are stored');
  t.comment(`statuses: 200 x${statuses.filter((x) => x === 200).length}, 503 x${statuses.filter((x) => x === 503).length}`);
});
