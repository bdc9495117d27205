// The hand-written TBinaryProtocol encoder is byte-identical to the thrift package's output
// (generated from thrift/collector-payload.thrift by Debian's thrift-compiler) for the same struct.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import {
  COLLECTOR_PAYLOAD_SCHEMA, type CollectorPayload, collectorPayloadToString, encodeCollectorPayload, encodedSize,
} from '../src/payload/collector-payload';
import { decodeRecord, thriftPackageEncode } from './helpers/records';

function check(t: Test, name: string, p: CollectorPayload): void {
  const mine = encodeCollectorPayload(p);
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v !== null && v !== undefined) fields[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  const theirs = thriftPackageEncode(fields);
  t.equal(mine.toString('hex'), theirs.toString('hex'), `${name}: bytes identical to the thrift package`);
  t.equal(encodedSize(p), mine.length, `${name}: encodedSize matches`);
}




const base: CollectorPayload = {
  schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '192.0.2.3', timestamp: 1_700_000_000_123, encoding: 'UTF-8', collector: 'sluice-0.1.0-wal',
};

t.test('spec checks (checklist 22, 48)', async (t) => {
  // An empty struct is the timestamp field plus the stop byte: 12 bytes (spec §1).
  const empty = encodeCollectorPayload({ schema: null, ipAddress: null, timestamp: 0, encoding: null, collector: null });
  t.equal(empty.length, 12);
  t.same(decodeRecord(empty).timestamp, 0, 'empty payload round-trips (48)');
  // Only querystring = 'x' * 1000: 11 + (3+4+1000) + 1 = 1019 bytes (SplitBatchSpec).
  t.equal(encodeCollectorPayload({ schema: null, ipAddress: null, timestamp: 0, encoding: null, collector: null, querystring: 'x'.repeat(1000) }).length, 1019);
  const full = encodeCollectorPayload({ ...base, path: '/i', querystring: 'e=pv', headers: ['Host: a'], networkUserId: 'n' });
  t.equal(full.subarray(0, 3).toString('hex'), '0b0064', 'record starts with ipAddress (field 100)');
  t.equal(full.subarray(0, 4).toString('base64').slice(0, 4), 'CwBk', 'base64 starts CwBk like SSC records');
  const tail = Buffer.concat([Buffer.from('0b7a6900000041', 'hex'), Buffer.from(COLLECTOR_PAYLOAD_SCHEMA), Buffer.from([0])]);
  t.equal(full.subarray(full.length - tail.length).toString('hex'), tail.toString('hex'), 'schema written last, then stop');
  check(t, 'full', { ...base, path: '/i', querystring: 'e=pv', headers: ['Host: a'], networkUserId: 'n' });
});

t.test('edge cases', async (t) => {
  check(t, 'empty strings', { ...base, userAgent: '', refererUri: '', path: '', querystring: '', body: '', headers: [], contentType: '', hostname: '', networkUserId: '' });
  check(t, 'unicode', { ...base, userAgent: 'Mozilla/5.0 (日本語; ünïcödé) 🚀', body: '{"emoji":"😀","rtl":"مرحبا"}', headers: ['X-Name: Zoë 🐍'] });
  check(t, 'no headers', { ...base, path: '/com.snowplowanalytics.snowplow/tp2' });
  check(t, '200 headers', { ...base, headers: Array.from({ length: 200 }, (_, i) => `X-Header-${i}: ${'v'.repeat(i)}`) });
  const mib = 'a'.repeat(1024 * 1024);
  check(t, '1 MiB body', { ...base, body: mib, contentType: 'application/json' });
  check(t, '1 MiB body as a Buffer', { ...base, body: Buffer.from(mib), contentType: 'application/json' });
  check(t, 'negative and large timestamps', { ...base, timestamp: -1 });
  check(t, 'max safe timestamp', { ...base, timestamp: Number.MAX_SAFE_INTEGER });
});

t.test('random payloads', async (t) => {
  const optional = ['userAgent', 'refererUri', 'path', 'querystring', 'body', 'contentType', 'hostname', 'networkUserId'] as const;
  const alphabet = ['a', 'Z', '0', ' ', '%', '&', '=', 'é', 'ß', '中', '🙂', '\u0000', '\n', '"'];
  const randomString = (): string => {
    const n = randomBytes(1)[0]! % 40;
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[randomBytes(1)[0]! % alphabet.length];
    return s;
  };
  for (let round = 0; round < 300; round++) {
    const p: CollectorPayload = {
      schema: randomBytes(1)[0]! % 5 === 0 ? null : COLLECTOR_PAYLOAD_SCHEMA,
      ipAddress: randomBytes(1)[0]! % 7 === 0 ? null : randomString(),
      timestamp: Math.floor(Math.random() * 2 ** 45),
      encoding: 'UTF-8',
      collector: randomBytes(1)[0]! % 9 === 0 ? null : randomString(),
    };
    for (const k of optional) if (randomBytes(1)[0]! % 2 === 0) p[k] = randomString();
    if (randomBytes(1)[0]! % 2 === 0) p.headers = Array.from({ length: randomBytes(1)[0]! % 12 }, randomString);
    const mine = encodeCollectorPayload(p);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) if (v !== null && v !== undefined) fields[k] = v;
    if (!mine.equals(thriftPackageEncode(fields))) {
      t.fail(`round ${round} differs for ${JSON.stringify(p)}`);
      return;
    }
  }
  t.pass('300 random payloads byte-identical');
});

t.test('toString matches Thrift Java (checklist 50 prefix)', async (t) => {
  const s = collectorPayloadToString({ schema: null, ipAddress: null, timestamp: 0, encoding: null, collector: null, body: 'sssss' });
  t.ok(s.startsWith('CollectorPayload(schema:null, ipAddress:null, timestamp:0, encoding:null, collector:null, body:sssss'));
  t.equal(collectorPayloadToString({ ...base, headers: ['A: 1', 'B: 2'] }).endsWith('headers:[A: 1, B: 2])'), true);
});
