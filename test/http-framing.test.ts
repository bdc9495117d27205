// The HTTP front end's framing (issue 20, items 2-4, 8, 9), against a real server over TCP:
// requests split across writes at every offset, trickled, in network-sized segments; over-long
// request lines; pipelining in order with each answer after its own event is durable; ambiguous
// framing refused with 400 and a close; idle connections evicted at the cap; slow bodies given
// their configured timeout.
import * as net from 'node:net';
import t from 'tap';
import { request } from './helpers/http';
import { serverPool } from './helpers/server';
import { recordScenario } from './helpers/reliability';

const server = serverPool(t);
const TP2 = '/com.snowplowanalytics.snowplow/tp2';

/**
 * Writes `parts` with `gapMs` between them; resolves with everything read once `untilAnswers`
 * complete answers are in (0: only at the server's close), or at close, or after `waitMs`.
 */
function sendParts(port: number, parts: Array<string | Buffer>, gapMs: number, waitMs = 3000, untilAnswers = 1): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const done = (): void => { clearTimeout(timer); s.destroy(); resolve({ text, closed }); };
    const timer = setTimeout(done, waitMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (untilAnswers > 0 && answers(text).length >= untilAnswers && complete(text)) done();
    });
    s.on('close', () => { closed = true; done(); });
    s.on('error', () => undefined);
    s.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (!s.destroyed) s.write(p);
      }
    });
  });
}

/** Status codes of every response in raw text. */
function answers(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** True when the last response's body is complete (Content-Length bytes after its headers). */
function complete(text: string): boolean {
  const last = text.lastIndexOf('HTTP/1.1 ');
  const head = text.indexOf('\r\n\r\n', last);
  if (head < 0) return false;
  const m = /content-length: (\d+)/i.exec(text.slice(last, head));
  return m === null || text.length - head - 4 >= Number(m[1]);
}

t.test('a request split at any offset is answered as if it came in one write', async (t) => {
  const s = await server({ ship: { enabled: false } });
  const get = 'GET /i?e=pv&aid=split&eid=x HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n';
  const statuses = new Map<number, number>();
  for (let at = 1; at < get.length; at++) {
    const r = await sendParts(s.port, [get.slice(0, at), get.slice(at)], 20);
    const st = answers(r.text)[0] ?? 0;
    statuses.set(st, (statuses.get(st) ?? 0) + 1);
  }
  t.same([...statuses], [[200, get.length - 1]], `every one of ${get.length - 1} split points answered 200`);

  const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: 'post-split' }] });
  const post = `POST ${TP2} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  let postOk = 0;
  for (let at = 1; at < post.length; at += 7) if (answers((await sendParts(s.port, [post.slice(0, at), post.slice(at)], 10)).text)[0] === 200) postOk++;
  t.equal(postOk, Math.ceil((post.length - 1) / 7), 'a POST split anywhere, body included');

  // A 3 KB pixel GET in 1460-byte segments, as it crosses a real network.
  const long = `GET /i?e=pv&eid=long&cx=${'a'.repeat(3000)} HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n`;
  const segments: string[] = [];
  for (let i = 0; i < long.length; i += 1460) segments.push(long.slice(i, i + 1460));
  t.same(answers((await sendParts(s.port, segments, 5)).text), [200], 'a 3 KB GET in 1460-byte segments');
  // Headers trickled a few bytes at a time.
  const trickle: string[] = [];
  for (let i = 0; i < get.length; i += 3) trickle.push(get.slice(i, i + 3));
  t.same(answers((await sendParts(s.port, trickle, 15, 5000)).text), [200], 'headers trickled 3 bytes per 15 ms');
  const stored = s.records().map((r) => new URLSearchParams(r.querystring ?? '').get('eid'));
  t.equal(stored.filter((e) => e === 'x').length, get.length - 1 + 1, 'every split request stored once');
});

t.test('an over-long request line gets 400 however it arrives', async (t) => {
  const s = await server({ ship: { enabled: false } });
  for (const size of [21_000, 30_000, 60_000, 200_000]) {
    const line = `GET /i?e=pv&x=${'a'.repeat(size)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const one = await sendParts(s.port, [line], 0);
    t.same(answers(one.text), [400], `${size} bytes in one write: 400`);
    t.match(one.text, /request line too long/, 'saying why');
    const chunks: string[] = [];
    for (let i = 0; i < line.length; i += 1460) chunks.push(line.slice(i, i + 1460));
    t.same(answers((await sendParts(s.port, chunks, 1)).text), [400], `${size} bytes in 1460-byte segments: 400`);
  }
  t.equal(s.records().length, 0, 'nothing stored');
});

t.test('pipelined requests: every one answered, in order, each after its own event is durable', async (t) => {
  const s = await server({ ship: { enabled: false } });
  // Events (answered after their sync) interleaved with robots.txt (answered at once): the answers
  // must alternate, so none overtakes the event before it.
  const n = 500;
  let data = '';
  for (let i = 0; i < n; i++) data += `GET /i?e=pv&eid=p${i} HTTP/1.1\r\nHost: a\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n`;
  const r = await sendParts(s.port, [data], 0, 20_000, 2 * n);
  const got = answers(r.text);
  t.equal(got.length, 2 * n, `${2 * n} answers on one connection`);
  const types = [...r.text.matchAll(/Content-Type: ([^\r]+)/gi)].map((m) => m[1]);
  const alternating = types.every((ct, i) => (i % 2 === 0 ? ct === 'image/gif' : ct!.startsWith('text/plain')));
  t.ok(alternating, 'in request order');
  t.ok(got.every((st) => st === 200), 'all 200');
  const eids = s.records().map((x) => new URLSearchParams(x.querystring ?? '').get('eid'));
  t.same(eids, Array.from({ length: n }, (_, i) => `p${i}`), 'every event stored once, in order');
  const unique = new Set(eids);
  recordScenario({ id: 'fuzz-split-pipeline', group: 'fuzz', title: `Requests split at every offset, and ${n} events pipelined on one connection between robots.txt requests`, acknowledged: got.filter((x) => x === 200).length / 2, lost: n - unique.size, duplicates: eids.length - unique.size, inputs: 2 * n, notes: 'answers in request order, each event acknowledged after its own sync' }, alternating && got.length === 2 * n);
});

t.test('ambiguous framing: 400 and the connection closed, nothing stored', async (t) => {
  const s = await server({ ship: { enabled: false } });
  const cases: Array<[string, string]> = [
    ['two different Content-Length', `POST ${TP2} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x`],
    ['a chunk without its CRLF', `POST ${TP2} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n`],
    ['a NUL in a header value', 'GET /i?e=pv HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'],
    ['an obs-fold', 'GET /i?e=pv HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', `POST ${TP2} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ];
  for (const [what, raw] of cases) {
    const started = Date.now();
    const r = await sendParts(s.port, [raw], 0, 3000, 0);
    t.same(answers(r.text), [400], `${what}: 400`);
    t.ok(r.closed, `${what}: closed`);
    t.ok(Date.now() - started < 2000, `${what}: answered at once, not at an idle timeout`);
  }
  t.equal(s.records().length, 0, 'nothing stored');
  // A refused request behind a pending event: the event's answer comes first, then the 400.
  const r = await sendParts(s.port, ['GET /i?e=pv&eid=before HTTP/1.1\r\nHost: a\r\n\r\nGET /i HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'], 0, 3000, 2);
  t.same(answers(r.text), [200, 400], 'answers in order, the event acknowledged');
  t.equal(s.records().length, 1, 'and stored');
});

t.test('at maxConnections, idle connections are evicted to admit new clients', async (t) => {
  const max = 40;
  const s = await server({ ship: { enabled: false }, collector: { networking: { maxConnections: max } } });
  const idle: net.Socket[] = [];
  t.teardown(() => { for (const c of idle) c.destroy(); });
  let closedByServer = 0;
  for (let i = 0; i < max + 10; i++) {
    await new Promise<void>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => resolve());
      c.on('close', () => { closedByServer++; });
      c.on('error', () => undefined);
      idle.push(c);
    });
  }
  await new Promise((r) => setTimeout(r, 200));
  t.ok(closedByServer >= 10, `idle connections beyond the cap were closed (${closedByServer})`);
  let ok = 0;
  for (let i = 0; i < 20; i++) if ((await request(s.port, { path: `/i?e=pv&eid=new${i}` })).status === 200) ok++;
  t.equal(ok, 20, 'every new client is served while idle connections hold the cap');
  const m = (await request(s.adminPort!, { path: '/metrics' })).text;
  const evicted = Number(/^sluice_http_connections_closed_at_cap_total\{reason="evicted-idle"\} (\d+)/m.exec(m)?.[1]);
  // 10 at the flood, and one for the first new client (each then closes its own connection).
  t.ok(evicted >= 11 && evicted === closedByServer, `evictions counted (${evicted}, ${closedByServer} seen by the idle clients)`);
  t.match(m, /^sluice_http_connections \d+/m, 'open connections exposed');
  recordScenario({ id: 'fault-idle-flood', group: 'fault', title: `${max + 10} idle connections held against maxConnections ${max}, then 20 new clients`, acknowledged: ok, inputs: max + 30, notes: `${evicted} idle connections evicted; every new client served` }, ok === 20);
});

t.test('a slow body gets the configured bodyReadTimeout, then 408', async (t) => {
  const s = await server({ ship: { enabled: false }, collector: { networking: { bodyReadTimeout: '20 seconds' } } });
  const body = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: 'slow', pad: 'x'.repeat(200) }] });
  const head = `POST ${TP2} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // About 12 s for the body: past an idle timeout of 10 s, within the 20 s configured.
  const parts = [head];
  const step = Math.ceil(body.length / 24);
  for (let i = 0; i < body.length; i += step) parts.push(body.slice(i, i + step));
  const slow = await sendParts(s.port, parts, 500, 20_000);
  t.same(answers(slow.text), [200], 'a body taking 12 s within a 20 s timeout: 200');
  t.equal(s.records().length, 1, 'stored');

  const quick = await server({ ship: { enabled: false }, collector: { networking: { bodyReadTimeout: '2 seconds' } } });
  const late = await sendParts(quick.port, [head, body.slice(0, 10)], 100, 6000, 0);
  t.same(answers(late.text), [408], 'a body not done within 2 s: 408');
  t.ok(late.closed, 'and the connection closed');
  t.equal(quick.records().length, 0, 'nothing stored');
  recordScenario({ id: 'fault-slow-body', group: 'fault', title: 'A body trickled over 12 s (bodyReadTimeout 20 s), and one past a 2 s timeout', acknowledged: 1, lost: 1 - s.records().length, notes: '200 within the configured timeout (not cut by an idle timeout); 408 and a close past it' }, answers(late.text)[0] === 408);
});
