// The hot path's RecordEncoder gives the same bytes as the reference buildRecords (whose Thrift
// encoder test/payload-encoder.test.ts proves identical to the thrift package's), on seeded
// random jobs and on edge cases: Cookie rewrites, anonymity, non-ASCII text, scratch growth,
// timestamps, and records at and over maxBytes (split or size_violation).
import t from 'tap';
import { RecordEncoder } from '../src/payload/record-encoder';
import { buildRecords, type RecordContext, type RecordJob } from '../src/payload/record-job';
import type { Serialized } from '../src/payload/split-batch';
import { prng } from './helpers/prng';

const ctx: RecordContext = { collector: 'sluice-test-wal', limits: { maxBytes: 6000, maxPayloadSize: 200_000 }, processor: { artifact: 'sluice', version: 'test' } };

const PIECES = ['a', 'Z', '=', ';', ' ', '"', ',', '\\', '{', '}', 'é', '€', '🚀', '\t', '0', '-', '_', '%', 'ß', '\u0149', '\ud800'];
const NAMES = ['host', 'cookie', 'user-agent', 'x-forwarded-for', 'x-real-ip', 'sp-anonymous', 'accept', 'dnt', 'x-custom-ß', 'referer', 'content-type', 'ŉame', 'sec-ch-ua'];

function text(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

function maybe<T>(r: () => number, v: T): T | null {
  return r() < 0.25 ? null : v;
}

function randomJob(r: () => number): RecordJob {
  const names: string[] = [];
  const values: string[] = [];
  const headerCount = Math.floor(r() * 12);
  for (let i = 0; i < headerCount; i++) {
    names.push(NAMES[Math.floor(r() * NAMES.length)]!);
    values.push(r() < 0.3 ? 'sp=abc; _ga=GA1.2; json={"k":"v"}; b = 2;;' : text(r, 40));
  }
  const post = r() < 0.5;
  const big = r() < 0.05;
  return {
    timestamp: Math.floor(r() * 2 ** 44) - (r() < 0.05 ? 2 ** 43 : 0),
    anonymous: r() < 0.2,
    peer: r() < 0.8 ? '127.0.0.1' : '[2001:db8::1]',
    forwardedFor: maybe(r, r() < 0.5 ? '192.0.2.7, 10.0.0.1' : text(r, 10)),
    path: post ? '/com.snowplowanalytics.snowplow/tp2' : '/i',
    query: post ? '' : text(r, big ? 9000 : 200),
    body: post ? Buffer.from(big ? JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: Array.from({ length: 20 }, (_, i) => ({ e: 'pv', i, u: 'u'.repeat(400) })) }) : text(r, 300), 'utf8') : null,
    contentType: post ? maybe(r, 'application/json; charset=utf-8') : null,
    userAgent: maybe(r, text(r, 80)),
    referer: maybe(r, text(r, 80)),
    host: maybe(r, r() < 0.5 ? 'c.acme.com:8080' : r() < 0.5 ? '[::1]:80' : text(r, 12)),
    nuid: r() < 0.5 ? '8b0c1f36-1d6e-4e1f-9b0a-1c2d3e4f5a6b' : text(r, 40),
    names, values,
  };
}

function hex(s: Serialized): { good: string[]; bad: string[] } {
  return { good: s.good.map((b) => b.toString('hex')), bad: s.bad.map((b) => b.toString('hex')) };
}

t.test('random jobs: identical bytes', async (t) => {
  const r = prng(20261126);
  const encoder = new RecordEncoder(ctx);
  let mismatches = 0;
  let split = 0;
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const job = randomJob(r);
    const want = hex(buildRecords(job, ctx));
    const got = hex(encoder.encode(job));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      if (mismatches++ < 3) t.same(got, want, `job ${i}: ${JSON.stringify(job).slice(0, 300)}`);
    }
    if (want.good.length > 1) split++;
    if (want.bad.length > 0) bad++;
  }
  t.equal(mismatches, 0, '3000 jobs, no byte differs');
  t.ok(split > 0 && bad > 0, `the over-maxBytes paths were taken (${split} split, ${bad} with bad rows)`);
});

t.test('edge cases', async (t) => {
  const encoder = new RecordEncoder(ctx);
  const base: RecordJob = {
    timestamp: 1_764_150_000_123, anonymous: false, peer: '127.0.0.1', forwardedFor: null, path: '/i', query: 'e=pv',
    body: null, contentType: null, userAgent: null, referer: null, host: null, nuid: 'n', names: [], values: [],
  };
  const cases: Array<[string, Partial<RecordJob>]> = [
    ['no headers at all', {}],
    ['cookie with only invalid parts is left out', { names: ['cookie'], values: ['json={"a":1}; ;'] }],
    ['cookie: dropped part between kept ones', { names: ['cookie'], values: ['a=1; json={"k":"v"}; b=2'] }],
    ['cookie: kept part then dropped ones', { names: ['cookie'], values: ['a=1; x="q"; y=\\'] }],
    ['cookie: spaces inside parts are removed', { names: ['cookie'], values: ['a b = c d ;  ; e=f'] }],
    ['two Cookie headers', { names: ['cookie', 'cookie'], values: ['a=1', 'b=2; c=3'] }],
    ['anonymous drops Cookie, X-Forwarded-For, X-Real-IP', { anonymous: true, names: ['cookie', 'x-forwarded-for', 'x-real-ip', 'sp-anonymous'], values: ['a=1', '192.0.2.1', '192.0.2.2', '*'], forwardedFor: '192.0.2.1' }],
    ['expanding canonical name', { names: ['x-ßß-ŉ'], values: ['v'] }],
    ['lone surrogates', { userAgent: '\ud800x\udfff', names: ['x-a'], values: ['\udc00'] }],
    ['negative timestamp', { timestamp: -1 }],
    ['timestamp past 2^32', { timestamp: 2 ** 40 + 5 }],
    ['content type without body', { contentType: 'text/plain' }],
    ['empty body', { path: '/com.snowplowanalytics.snowplow/tp2', body: Buffer.alloc(0), contentType: 'application/json' }],
    ['value larger than the initial scratch buffer', { query: `q=${'é'.repeat(40_000)}` }],
    ['record just under maxBytes', { query: 'x'.repeat(5800) }],
  ];
  for (const [name, patch] of cases) {
    const job = { ...base, ...patch };
    t.same(hex(encoder.encode(job)), hex(buildRecords(job, ctx)), name);
  }
  // One record exactly at each size around the limit: under it is one record, at it is not.
  for (let q = 5850; q < 5900; q++) {
    const job = { ...base, query: 'x'.repeat(q) };
    const want = buildRecords(job, ctx);
    const got = encoder.encode(job);
    if (JSON.stringify(hex(got)) !== JSON.stringify(hex(want))) t.fail(`query of ${q} bytes differs`);
  }
  t.pass('sizes around maxBytes agree');
  // The results never share memory with the scratch buffer.
  const a = encoder.encode({ ...base, query: 'first' });
  const before = a.good[0]!.toString('hex');
  encoder.encode({ ...base, query: 'second, longer' });
  t.equal(a.good[0]!.toString('hex'), before, 'an earlier record is unchanged by the next encode');
});
