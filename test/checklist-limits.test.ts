// Spec §5 (limits, split, bad rows): checklist items 46, 47, 49-53, 64, and malformed input.
import t from 'tap';
import * as net from 'node:net';
import { rawRequest, rawStatus, request } from './helpers/http';
import { serverPool } from './helpers/server';
import { serializeWithSplit, splitJsonValues } from '../src/payload/split-batch';
import type { CollectorPayload } from '../src/payload/collector-payload';
import { decodeRecord } from './helpers/records';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const server = serverPool(t);
const processor = { artifact: 'sluice', version: 'test' };
const empty: CollectorPayload = { schema: null, ipAddress: null, timestamp: 0, encoding: null, collector: null };
type Row = { schema: string; data: { processor: { artifact: string }; failure: { maximumAllowedSizeBytes: number; actualSizeBytes: number; expectation: string; timestamp: string }; payload: string } };
const rows = (bufs: Buffer[]): Row[] => bufs.map((b) => JSON.parse(b.toString()) as Row);

t.test('split (47)', async (t) => {
  t.same(splitJsonValues(['a', 'b', 'c'], 9, 1), { batches: [['c'], ['b', 'a']], failed: [] }, '47: a,b,c budget 9');
  t.same(splitJsonValues(['1234567', '1', '123'], 8, 0), { batches: [['123', '1']], failed: ['1234567'] }, '47: 1234567,1,123 budget 8');
  const ten = ['123456789', '12345678', '1234567', '123456', '12345', '1234', '123456778901', '123', '12', '1'];
  t.same(splitJsonValues(ten, 13, 0), {
    batches: [['1', '12', '123'], ['1234', '12345'], ['123456'], ['1234567'], ['12345678'], ['123456789']],
    failed: ['123456778901'],
  }, '47: the ten-string case');
});

t.test('size violations (49-53)', async (t) => {
  const now = new Date();
  const get = serializeWithSplit({ ...empty, querystring: 'x'.repeat(1000) }, { maxBytes: 100, maxPayloadSize: 1_048_576 }, processor, now);
  const [g] = rows(get.bad);
  t.equal(get.good.length, 0);
  t.same([g!.data.failure.maximumAllowedSizeBytes, g!.data.failure.actualSizeBytes], [100, 1019], '49: max 100, actual 1019');
  t.equal(g!.data.failure.expectation, 'oversized collector payload: GET requests cannot be split', '49: expectation');
  t.equal(g!.data.payload, 'CollectorP', '49: payload truncated to max/10');
  t.equal(g!.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0');
  t.equal(g!.data.processor.artifact, 'sluice', '49: processor = app name');

  const big = serializeWithSplit({ ...empty, body: 's'.repeat(1010) }, { maxBytes: 1000, maxPayloadSize: 1000 }, processor, now);
  const [b] = rows(big.bad);
  t.same([b!.data.failure.maximumAllowedSizeBytes, b!.data.failure.actualSizeBytes], [1000, 1029], '50: max 1000, actual 1029');
  t.equal(b!.data.failure.expectation, 'oversized collector payload: Payload exceeds max size of 1000. Actual length: 1029', '50');
  t.ok(b!.data.payload.startsWith('CollectorPayload(schema:null, ipAddress:null, timestamp:0, encoding:null, collector:null, body:sssss'), '50: payload text');

  const notJson = serializeWithSplit({ ...empty, body: 's'.repeat(1000) }, { maxBytes: 100, maxPayloadSize: 1_048_576 }, processor, now);
  const [n] = rows(notJson.bad);
  t.equal(n!.data.failure.actualSizeBytes, 1019, '51: actual 1019');
  t.match(n!.data.failure.expectation, /^oversized collector payload: cannot split POST requests which are not json /, '51: not json (the parser message is V8\'s, not jawn\'s)');

  const sdBody = '{"schema":"s","data":[{"e":"pv"},{"e":"pv"}]}';
  const notSd = serializeWithSplit({ ...empty, path: 'p'.repeat(1000), body: sdBody }, { maxBytes: 1000, maxPayloadSize: 1_048_576 }, processor, now);
  const [sd] = rows(notSd.bad);
  t.equal(notSd.bad.length, 1, '52: one violation');
  // SSC's test body is not given in the spec (its record is 1091 bytes); this one's size by hand:
  // timestamp 11 + path (7 + 1000) + body (7 + body length) + stop 1.
  t.equal(sd!.data.failure.actualSizeBytes, 11 + 1007 + 7 + sdBody.length + 1, '52: actual = the whole record size');
  t.equal(sd!.data.failure.expectation, 'oversized collector payload: cannot split POST requests which are not self-describing Invalid Iglu URI: s, code: INVALID_IGLUURI', '52');

  const events = [{ tv: 'x'.repeat(600) }, { tv: 'x'.repeat(5) }, { tv: 'x'.repeat(600) }, ...Array.from({ length: 4 }, () => ({ tv: 'x'.repeat(1000) }))];
  const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: events });
  const seven = serializeWithSplit({ ...empty, body }, { maxBytes: 1000, maxPayloadSize: 1_048_576 }, processor, now);
  t.equal(seven.good.length, 2, '53: 2 good records');
  t.equal(seven.bad.length, 4, '53: 4 bad');
  for (const rec of seven.good) {
    t.ok(rec.length < 1000, 'each split record is under maxBytes');
    const decoded = decodeRecord(rec);
    const parsed = JSON.parse(decoded.body!) as { schema: string; data: unknown[] };
    t.equal(parsed.schema, 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', 'split records keep the schema');
  }
  const kept = seven.good.flatMap((r) => (JSON.parse(decodeRecord(r).body!) as { data: Array<{ tv: string }> }).data.map((e) => e.tv.length));
  t.same(kept.sort((a, b) => a - b), [5, 600, 600], 'the small events survive the split');
});

t.test('over the HTTP limits (46, 64)', async (t) => {
  // SSC order: a record under maxBytes is good; at or over it and over maxPayloadSize it is a violation.
  const s = await server({ collector: { networking: { dropPayloadSize: 1002, maxPayloadSize: 1001 } }, wal: { maxRecordBytes: 1000 } });
  const over = await request(s.port, { method: 'POST', path: TP2, body: 'x'.repeat(1003) });
  t.equal(over.status, 413, '46: body over dropPayloadSize => 413');
  const under = await request(s.port, { method: 'POST', path: '/com.acme/v1', body: 'y'.repeat(1000) });
  t.equal(under.status, 200, '46: 1000-byte body under 1002 passes');
  t.equal(s.records().filter((r) => r.body === 'y'.repeat(1000)).length, 0, 'a record over maxPayloadSize is not a good record');
  const [row] = s.badRows() as Row[];
  t.equal(s.badRows().length, 1, '...it is a size_violation bad row');
  t.equal(row!.data.failure.maximumAllowedSizeBytes, 1001, 'max = maxPayloadSize');
  const chunked = await rawRequest(s.port, `POST ${TP2} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'z'.repeat(1024)}\r\n0\r\n\r\n`);
  t.equal(rawStatus(chunked.text), 413, 'chunked body over the limit => 413');
  t.equal(s.records().length, 0, 'nothing over the limit stored as good');

  const big = await server({ wal: { maxRecordBytes: 10_000 } });
  const statuses = await Promise.all([
    ...Array.from({ length: 1000 }, () => request(big.port, { method: 'POST', path: TP2, body: 'foo' }).then((r) => r.status)),
    ...Array.from({ length: 10 }, () => request(big.port, { method: 'POST', path: TP2, body: 'f'.repeat(10_001) }).then((r) => r.status)),
  ]);
  t.ok(statuses.every((x) => x === 200), '64: all 1010 answered 200');
  t.equal(big.records().length, 1000, '64: 1000 good');
  t.equal(big.badRows().length, 10, '64: 10 bad');
});

t.test('a tp2 batch over maxBytes is split end to end', async (t) => {
  const s = await server({ wal: { maxRecordBytes: 2000 } });
  const events = Array.from({ length: 10 }, (_, i) => ({ e: 'pv', eid: `e${i}`, url: 'x'.repeat(300) }));
  const r = await request(s.port, { method: 'POST', path: TP2, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: events }) });
  t.equal(r.status, 200);
  const recs = s.records();
  t.ok(recs.length > 1, `split into ${recs.length} records`);
  const eids = recs.flatMap((x) => (JSON.parse(x.body!) as { data: Array<{ eid: string }> }).data.map((e) => e.eid)).sort();
  t.same(eids, events.map((e) => e.eid).sort(), 'every event kept exactly once');
});

t.test('timeouts (46: 408) and bounds', async (t) => {
  const slowSync = await server({ collector: { networking: { responseHeaderTimeout: '300 ms' } } }, { SLUICE_FAULT_SYNC_DELAY_MS: '1500' });
  const r = await request(slowSync.port, { path: '/i' });
  t.equal(r.status, 408, '46: not acknowledged within responseHeaderTimeout => 408');
  t.equal(r.text, 'Response timed out');

  const slowBody = await server({ collector: { networking: { bodyReadTimeout: '500 ms' } } });
  const partial = await rawRequest(slowBody.port, `POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-some`, 3000);
  t.equal(rawStatus(partial.text), 408, 'slow body => 408');
  t.ok(partial.closed, 'and the connection is closed');
  t.equal(slowBody.records().length, 0);

  const bounded = await server({ wal: { maxPendingRecords: 2 } }, { SLUICE_FAULT_SYNC_DELAY_MS: '400' });
  const statuses = await Promise.all(Array.from({ length: 12 }, () => request(bounded.port, { path: '/i' }).then((x) => x.status)));
  t.ok(statuses.includes(503), `maxPendingRecords reached => 503 (${statuses.join(',')})`);
  t.ok(statuses.includes(200), 'requests within the bound succeed');
  t.equal(bounded.records().length, statuses.filter((x) => x === 200).length, 'exactly the acknowledged events are stored');

  const few = await server({ collector: { networking: { maxConnections: 2 } } });
  const sockets = await Promise.all([0, 1, 2].map(() => new Promise<net.Socket>((resolve) => { const c = net.connect(few.port, '127.0.0.1', () => resolve(c)); c.on('error', () => undefined); })));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sockets.filter((c) => c.destroyed || c.readableEnded).length >= 1, true, 'a connection over maxConnections is closed');
  for (const c of sockets) c.destroy();
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await request(few.port, { path: '/health' })).status, 200, 'room again after connections close');
});

t.test('malformed input gets a defined status and never crashes', async (t) => {
  const s = await server();
  const cases: Array<[string, string | Buffer, number[]]> = [
    // SSC answers HTTP/1.0 (its server is blaze), and so does Sluice.
    ['HTTP/1.0', 'GET /i HTTP/1.0\r\n\r\n', [200]],
    ['garbage request line', 'GARBAGE\r\n\r\n', [400]],
    ['bad chunked encoding', `POST ${TP2} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n`, [400]],
    ['bad Content-Length', `POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nhello`, [400]],
    // The bound is the headers' bytes (maxHeadersLength), as SSC's, whatever their count.
    ['3,000 small headers within maxHeadersLength', `GET /i HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, [200]],
    ['5,000 headers over maxHeadersLength', `GET /i HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, [431]],
    ['headers over maxHeadersLength', `GET /i HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(41_000)}\r\n\r\n`, [431]],
    ['request line over maxRequestLineLength', `GET /i?${'q'.repeat(21_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, [400]],
    ['non-UTF-8 header bytes', Buffer.concat([Buffer.from('GET /i HTTP/1.1\r\nHost: x\r\nUser-Agent: '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\r\nConnection: close\r\n\r\n')]), [200]],
    ['broken percent-encoding', 'GET /i?e=pv&nuid=%E0%A4%A&url=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [200]],
  ];
  for (const [name, data, expected] of cases) {
    const r = await rawRequest(s.port, data);
    const status = rawStatus(r.text);
    t.ok(status !== null && expected.includes(status), `${name} => ${status} (expected ${expected.join('/')})`);
  }
  const badJson = await request(s.port, { method: 'POST', path: TP2, headers: [['Content-Type', 'application/json']], body: '{"schema": "iglu:x", "data": [' });
  t.equal(badJson.status, 200, 'invalid JSON is stored as sent (validation is enrich\'s job)');
  const recs = s.records();
  t.equal(recs.at(-1)!.body, '{"schema": "iglu:x", "data": [', 'invalid JSON body kept verbatim');
  const broken = recs.find((x) => x.querystring!.includes('%zz'));
  t.equal(broken?.querystring, 'e=pv&nuid=%E0%A4%A&url=%zz', 'broken percent-encoding kept raw in the record');
  t.equal((await request(s.port, { path: '/health' })).status, 200, 'the server is still up');
  t.equal(s.proc.exitCode, null, 'no crash');
});
