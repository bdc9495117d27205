// Unit tests of src/http: CollectorService (what it answers and what it records), the captured
// request, origin, query and redirect parsing, static answers, the parser's refusals, the queue
// of acknowledgements and the connection guard (real sockets on loopback).
import t from 'tap';
import { configFromObject } from '../src/config/load';
import { AckQueue } from '../src/http/ack-queue';
import { addHeader, type CapturedRequest, emptyCapturedRequest, headerValue } from '../src/http/captured-request';
import { ANONYMOUS_NUID, CollectorService, type HealthSource } from '../src/http/collector-service';
import { ConnectionGuard } from '../src/http/connection-guard';
import { statusCode } from '../src/http/exchange';
import { parseOrigin } from '../src/http/origin';
import { refusalBytes } from '../src/http/response-bytes';
import { decodeQueryComponent, queryParam } from '../src/http/query';
import { RedirectPolicy } from '../src/http/redirect';
import { PIXEL, statusText } from '../src/http/static-responses';

const healthy: HealthSource = { unhealthyReason: () => null, sinkHealthy: () => true };

function req(method: string, pathAndQuery: string, headers: Array<[string, string]> = [], body: string | null = null): CapturedRequest {
  const q = pathAndQuery.indexOf('?');
  const r = emptyCapturedRequest(method, q < 0 ? pathAndQuery : pathAndQuery.slice(0, q), q < 0 ? '' : pathAndQuery.slice(q + 1), '192.0.2.7');
  for (const [k, v] of headers) addHeader(r, k.toLowerCase(), v);
  if (body !== null) r.body = Buffer.from(body);
  return r;
}

function headersOf(h: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < h.length; i += 2) out.push([h[i]!, h[i + 1]!]);
  return out;
}

t.test('CollectorService: a pixel answers the GIF, sets the cookie and records the event', async (t) => {
  const { config } = configFromObject({});
  const svc = new CollectorService(config.collector, healthy, () => Date.UTC(2026, 0, 2, 3, 4, 5));
  const out = svc.handle(req('get', '/i?e=pv&eid=1', [['User-Agent', 'UA'], ['Host', 'c.example:8080']]));
  t.equal(out.plan.status, '200 OK');
  t.same(out.plan.body, PIXEL, 'the 43-byte GIF');
  const h = headersOf(out.plan.headers);
  const cookie = h.find(([k]) => k === 'Set-Cookie')?.[1] ?? '';
  t.match(cookie, /^sp=[0-9a-f-]{36}; Expires=/, 'a new network user id cookie');
  t.ok(out.job !== null, 'an event to record');
  t.equal(out.job!.timestamp, Date.UTC(2026, 0, 2, 3, 4, 5), 'stamped by the service clock');
  t.equal(out.job!.nuid, /^sp=([^;]+)/.exec(cookie)![1], 'the record carries the cookie\'s id');
  t.equal(out.job!.query, 'e=pv&eid=1');
  t.equal(out.job!.body, null, 'no body for a pixel');
});

t.test('CollectorService: identity from the nuid parameter, the cookie, or SP-Anonymous', async (t) => {
  const { config } = configFromObject({});
  const svc = new CollectorService(config.collector, healthy);
  t.equal(svc.handle(req('get', '/i?nuid=abc-1')).job!.nuid, 'abc-1', 'nuid parameter');
  t.equal(svc.handle(req('get', '/i', [['Cookie', 'x=1; sp=from-cookie']])).job!.nuid, 'from-cookie', 'sp cookie');
  const anon = svc.handle(req('get', '/i?nuid=abc', [['SP-Anonymous', '*'], ['Cookie', 'sp=c']]));
  t.equal(anon.job!.nuid, ANONYMOUS_NUID, 'anonymous: zeros');
  t.ok(anon.job!.anonymous);
});

t.test('CollectorService: POST, routes, health and 404s', async (t) => {
  const { config } = configFromObject({});
  const svc = new CollectorService(config.collector, { unhealthyReason: () => 'unhealthy: disk full', sinkHealthy: () => false });
  t.ok(svc.readsBody('post', '/com.snowplowanalytics.snowplow/tp2'), 'tp2 reads a body');
  t.notOk(svc.readsBody('get', '/i'));
  const post = svc.handle(req('post', '/com.snowplowanalytics.snowplow/tp2', [['Content-Type', 'Application/JSON']], '{}'));
  t.equal(post.plan.body, 'ok');
  t.equal(post.job!.contentType, 'application/json', 'content type lower-cased in the record');
  t.equal(post.job!.body!.toString(), '{}');
  const health = svc.handle(req('get', '/health'));
  t.same([health.plan.status, health.plan.body, health.job], ['503 Service Unavailable', 'unhealthy: disk full', null], '/health says why');
  t.equal(svc.handle(req('get', '/sink-health')).plan.status, '503 Service Unavailable');
  t.equal(svc.handle(req('get', '/nope')).plan.status, '404 Not Found');
  t.equal(svc.handle(req('put', '/a/b')).plan.status, '404 Not Found', 'PUT on an event path');
  t.equal(svc.handle(req('get', '/r/tp2?u=https%3A%2F%2Fa.example')).plan.body, 'redirects disabled', 'redirects off by default');
  const pre = svc.handle(req('options', '/i', [['Origin', 'https://Shop.Example']]));
  t.equal(headersOf(pre.plan.headers).find(([k]) => k === 'Access-Control-Allow-Origin')?.[1], 'https://shop.example', 'preflight echoes the origin');
});

t.test('CollectorService: do-not-track answers without recording', async (t) => {
  const { config } = configFromObject({ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: 'yes' } } });
  const svc = new CollectorService(config.collector, healthy);
  const out = svc.handle(req('get', '/i', [['Cookie', 'dnt=yes']]));
  t.equal(out.plan.status, '200 OK');
  t.equal(out.job, null, 'nothing recorded');
});

t.test('captured request: first values of the headers the collector reads', async (t) => {
  const r = req('get', '/i', [['User-Agent', 'a'], ['User-Agent', 'b'], ['Cookie', 'x=1'], ['Cookie', 'y=2'], ['X-Forwarded-For', '1.2.3.4, 5.6.7.8']]);
  t.equal(r.userAgent, 'a');
  t.same(r.cookies, ['x=1', 'y=2'], 'every Cookie header');
  t.equal(r.forwardedFor, '1.2.3.4, 5.6.7.8');
  t.equal(headerValue(r, 'cookie'), 'x=1');
  t.equal(headerValue(r, 'absent'), null);
  t.same(r.names, ['user-agent', 'user-agent', 'cookie', 'cookie', 'x-forwarded-for'], 'in arrival order');
});

t.test('origin, query, redirect, static answers', async (t) => {
  t.same(parseOrigin('https://A.example:8443 http://b.example'), { allowOrigin: 'https://a.example:8443', hosts: ['a.example', 'b.example'] });
  t.equal(parseOrigin('null'), null);
  t.equal(parseOrigin(null), null);
  t.equal(queryParam('a=1&u=x%20y&b', 'u'), 'x y');
  t.equal(queryParam('a=1&b', 'b'), '', 'present without a value');
  t.equal(queryParam('ab=1', 'a'), null, 'a prefix is not the name');
  t.equal(decodeQueryComponent('%E2%82%AC+%zz'), '€ %zz', 'broken escapes kept as written');
  const p = new RedirectPolicy(['good.example']);
  t.equal(p.target('https://good.example/x?y=1'), 'https://good.example/x?y=1');
  t.equal(p.target('https://evil.example/'), null, 'host not on the list');
  t.equal(p.target('javascript:alert(1)'), null, 'not http(s)');
  t.equal(p.target('https://good.example@evil.example/'), null, 'userinfo trick judged on the real host');
  t.equal(new RedirectPolicy([]).target('http://any.example/'), 'http://any.example/', 'empty list: any host');
  t.equal(statusText(404), '404 Not Found');
  t.equal(statusText(599), '599');
  t.equal(PIXEL.length, 43);
  t.equal(statusCode('503 Service Unavailable'), 503);
});

t.test('a refusal as a whole response with a close', async (t) => {
  const raw = refusalBytes({ status: 400, body: 'Bad Request' }).toString('latin1');
  t.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.match(raw, /\r\nContent-Length: 11\r\nDate: [^\r]+ GMT\r\nConnection: close\r\n\r\nBad Request$/);
});

t.test('AckQueue: answered entries leave, the oldest expire first', async (t) => {
  const q = new AckQueue<{ queued: boolean; startedAt: number }>();
  const [a, b, c] = [10, 20, 30].map((startedAt) => ({ queued: false, startedAt }));
  for (const x of [a!, b!, c!]) q.add(x);
  t.equal(q.size, 3);
  t.ok(a!.queued, 'marked queued');
  t.same(q.olderThan(25), [a, b], 'started before 25');
  q.remove(b!);
  t.notOk(b!.queued);
  t.same(q.olderThan(100), [a, c], 'an answered one is not returned');
  q.remove(b!);
  t.equal(q.size, 2, 'removing twice changes nothing');
  q.remove(a!);
  q.remove(c!);
  t.equal(q.size, 0);
  t.same(q.olderThan(100), []);
});

t.test('ConnectionGuard: evicts the longest-idle connection at the cap, refuses when none is idle', async (t) => {
  const counts = { opened: 0, closed: 0, refused: 0, evicted: 0 };
  const guard = new ConnectionGuard<{ idle: boolean; idleSince: number; destroyed: boolean; destroy(): void }>(2, {
    connectionOpened: () => counts.opened++, connectionClosed: () => counts.closed++,
    connectionRefused: () => counts.refused++, connectionEvicted: () => counts.evicted++,
  });
  const conn = (idleSince: number, idle = true) => ({ idle, idleSince, destroyed: false, destroy() { this.destroyed = true; guard.closed(this); } });
  const a = conn(10);
  const b = conn(5);
  t.ok(guard.opened(a) && guard.opened(b), 'under the cap: admitted');
  const c = conn(20);
  t.ok(guard.opened(c), 'at the cap with idle ones: admitted');
  t.ok(b.destroyed && !a.destroyed, 'the one idle the longest (since 5) was evicted, not the newer idle one');
  t.equal(counts.evicted, 1);
  t.equal(guard.open, 2);
  a.idle = false;
  c.idle = false;
  const d = conn(30);
  t.notOk(guard.opened(d), 'every connection busy: the new one is refused');
  t.ok(d.destroyed && !a.destroyed && !c.destroyed, 'and only it closed');
  t.equal(counts.refused, 1);
  t.same([...guard.all()], [a, c], 'the busy ones kept');
  t.same(counts, { opened: 4, closed: 2, refused: 1, evicted: 1 });
});
