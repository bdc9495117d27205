// Spec §3 (identity): checklist items 1-4, 7, 15-19, 26-28, 30-32, 35, 36, 56-59, 61.
import t from 'tap';
import { header, headerValues, request } from './helpers/http';
import { serverPool } from './helpers/server';
import { domainMatches, chooseCookieDomain } from '../src/http/cookies';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const ZEROS = '00000000-0000-0000-0000-000000000000';
const YEAR_MS = 365 * 86_400_000;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function expiresOf(setCookie: string): number {
  const m = /Expires=([^;]+)/.exec(setCookie);
  return m === null ? NaN : Date.parse(m[1]!);
}

const server = serverPool(t);

t.test('anonymous (1, 2, 3, 7, 18, 19, 58)', async (t) => {
  const s = await server({ collector: { cookie: { clientCookieName: 'sp_client' } } });
  const before = Date.now();
  const r1 = await request(s.port, { method: 'POST', path: TP2, headers: [['SP-Anonymous', '*'], ['Cookie', 'sp=abc-123'], ['X-Forwarded-For', '192.0.2.4'], ['Content-Type', 'application/json']], body: '{}' });
  t.equal(r1.status, 200, '3: anonymous POST with cookie answers 200');
  const cookies = headerValues(r1, 'Set-Cookie');
  t.equal(cookies.length, 2, '18: anonymous + cookie + clientCookieName => 2 cookies');
  t.match(cookies[0]!, /^sp=; Expires=/, '1/58: sp cookie with an empty value');
  t.match(cookies[1]!, /^sp_client=; Expires=/, '18: client cookie expired too');
  for (const c of cookies) {
    const exp = expiresOf(c);
    t.ok(Math.abs(exp - (before - YEAR_MS)) < 2000, `1/58: expiry ~ now - expiration (${c})`);
  }
  const recs = s.records();
  t.equal(recs.length, 1, '3: one good record');
  t.equal(recs[0]!.networkUserId, ZEROS, '3: networkUserId all zeros');
  t.equal(recs[0]!.ipAddress, 'unknown', '7: ipAddress unknown');

  const r2 = await request(s.port, { path: '/i?e=pv', headers: [['SP-Anonymous', '*']] });
  t.equal(headerValues(r2, 'Set-Cookie').length, 0, '2/19: anonymous without cookie => no Set-Cookie');
  t.equal(s.records()[1]!.networkUserId, ZEROS, '30: anonymous => zeros even with no cookie');
  const r3 = await request(s.port, { path: '/i?e=pv&nuid=abc', headers: [['SP-Anonymous', '*'], ['Cookie', 'sp=xyz']] });
  t.equal(r3.status, 200);
  t.equal(s.records()[2]!.networkUserId, ZEROS, '30: anonymous beats nuid param and cookie');
});

t.test('nuid precedence and the cookie (4, 15, 16, 26, 30)', async (t) => {
  const s = await server();
  const r1 = await request(s.port, { method: 'POST', path: TP2, headers: [['Cookie', 'other=1; sp=cookie-nuid'], ['Content-Type', 'application/json']], body: '{}' });
  t.equal(s.records()[0]!.networkUserId, 'cookie-nuid', '4: networkUserId = cookie value');
  const set = headerValues(r1, 'Set-Cookie');
  t.equal(set.length, 1, '16: exactly one Set-Cookie without clientCookieName');
  t.match(set[0]!, /^sp=cookie-nuid; Expires=[^;]+; Path=\/; SameSite=None; Secure; HttpOnly$/, '26: name, value, Path=/, no Domain, attributes');
  t.ok(Math.abs(expiresOf(set[0]!) - (Date.now() + YEAR_MS)) < 3000, '26: expiry ~ now + expiration');

  await request(s.port, { path: '/i?e=pv&nuid=param-nuid', headers: [['Cookie', 'sp=cookie-nuid']] });
  t.equal(s.records()[1]!.networkUserId, 'param-nuid', '30: nuid param beats the cookie');
  const r3 = await request(s.port, { path: '/i?e=pv' });
  const fresh = s.records()[2]!.networkUserId!;
  t.match(fresh, UUID_V4, '30: none => new UUID v4');
  t.match(header(r3, 'Set-Cookie')!, new RegExp(`^sp=${fresh};`), 'the new id is also the cookie value');
  await request(s.port, { path: '/i?nuid=a%20b%3B%20Domain%3Devil.com' });
  t.equal(s.records()[3]!.networkUserId, 'a b; Domain=evil.com', 'the param is decoded into the record as SSC does');

  const s2 = await server({ collector: { cookie: { clientCookieName: 'sp_js' } } });
  const r4 = await request(s2.port, { path: '/i', headers: [['Cookie', 'sp=n1']] });
  const both = headerValues(r4, 'Set-Cookie');
  t.equal(both.length, 2, '15: two Set-Cookies');
  t.match(both[1]!, /^sp_js=n1; Expires=[^;]+; Path=\/; SameSite=None; Secure$/, '15: client cookie = main with other name, not HttpOnly');
});

t.test('injected cookie attributes are never echoed', async (t) => {
  const s = await server();
  const r = await request(s.port, { path: '/i?nuid=x%3B%20Domain%3Devil.com%3B%20Max-Age%3D99999999' });
  t.equal(headerValues(r, 'Set-Cookie').length, 0, 'an invalid cookie value is not set');
  t.equal(r.status, 200);
});

t.test('cookie disabled, DNT (17, 27, 28, 35, 61)', async (t) => {
  const off = await server({ collector: { cookie: { enabled: false } } });
  const r = await request(off.port, { path: '/i?e=pv' });
  t.equal(headerValues(r, 'Set-Cookie').length, 0, '17/27: no Set-Cookie when disabled');
  t.equal(off.records().length, 1, '17: record still stored');

  const dnt = await server({ collector: { doNotTrackCookie: { enabled: true, name: 'foo', value: 'bar' } } });
  const a = await request(dnt.port, { method: 'POST', path: TP2, headers: [['Cookie', 'foo=foo']], body: '{}' });
  const b = await request(dnt.port, { method: 'POST', path: TP2, headers: [['Cookie', 'foo=bar']], body: '{}' });
  const c = await request(dnt.port, { method: 'POST', path: TP2, headers: [['Cookie', 'bar=bar']], body: '{}' });
  t.same([a.status, b.status, c.status], [200, 200, 200], '61: all three answered 200');
  t.equal(b.text, 'ok', 'DNT: normal body');
  t.equal(headerValues(b, 'Set-Cookie').length, 0, '27/28: no cookie when DNT matched');
  const recs = dnt.records();
  t.equal(recs.length, 2, '61: two records');
  t.ok(recs[0]!.headers!.includes('Cookie: foo=foo') && recs[1]!.headers!.includes('Cookie: bar=bar'), '61: the non-matching requests were stored');

  const regex1 = await server({ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: '^snowplow-(.*)$' } } });
  await request(regex1.port, { path: '/i', headers: [['Cookie', 'dnt=lorem-1p5uM']] });
  await request(regex1.port, { path: '/i', headers: [['Cookie', 'other=snowplow-1']] });
  t.equal(regex1.records().length, 2, '35: no match for another value or another name');
  const regex2 = await server({ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: '^(.*)$' } } });
  await request(regex2.port, { path: '/i', headers: [['Cookie', 'dnt=anything']] });
  t.equal(regex2.records().length, 0, '35: ^(.*)$ matches');
  const partial = await server({ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: 'yes' } } });
  await request(partial.port, { path: '/i', headers: [['Cookie', 'dnt=yes-please']] });
  t.equal(partial.records().length, 1, 'the regex must match the whole value');
});

t.test('cookie attributes from config (28, 56, 57)', async (t) => {
  const s = await server({ collector: { cookie: { name: 'greatName', expiration: '42 days', secure: true, httpOnly: true, sameSite: 'Strict' } } });
  const r = await request(s.port, { path: '/i' });
  const c = header(r, 'Set-Cookie')!;
  t.match(c, /^greatName=[0-9a-f-]{36}; Expires=[^;]+; Path=\/; SameSite=Strict; Secure; HttpOnly$/, '56');
  t.ok(Math.abs(expiresOf(c) - (Date.now() + 42 * 86_400_000)) < 100_000, '56: 42 days');
  const s2 = await server({ collector: { cookie: { secure: false, httpOnly: false, sameSite: 'None' } } });
  t.match(header(await request(s2.port, { path: '/i' }), 'Set-Cookie')!, /; SameSite=None; Secure$/, '57: SameSite=None forces Secure; no HttpOnly');
  const s3 = await server({ collector: { cookie: { secure: false, httpOnly: false, sameSite: 'lax' } } });
  t.match(header(await request(s3.port, { path: '/i' }), 'Set-Cookie')!, /; Path=\/; SameSite=Lax$/, 'sameSite is case-insensitive; no Secure when not asked');
});

t.test('cookie domain (31, 32, 59)', async (t) => {
  const none = await server();
  t.notMatch(header(await request(none.port, { path: '/i', headers: [['Origin', 'http://www.acme.com']] }), 'Set-Cookie')!, /Domain=/, '59: no domains/fallback => no Domain');
  const s = await server({ collector: { cookie: { domains: ['foo.bar', 'sub.foo.bar'], fallbackDomain: 'fallback.domain' } } });
  t.match(header(await request(s.port, { path: '/i', headers: [['Origin', 'http://sub.foo.bar']] }), 'Set-Cookie')!, /; Domain=foo\.bar; /, '59: first configured match');
  t.match(header(await request(s.port, { path: '/i', headers: [['Origin', 'http://other.domain']] }), 'Set-Cookie')!, /; Domain=fallback\.domain; /, '59: no match => fallback');
  t.match(header(await request(s.port, { path: '/i' }), 'Set-Cookie')!, /; Domain=fallback\.domain; /, '59: no Origin => fallback');
  const multi = await server({ collector: { cookie: { domains: ['domain.com', 'otherdomain.com'] } } });
  t.match(header(await request(multi.port, { path: '/i', headers: [['Origin', 'http://www.domain2.com http://www.domain.com http://www.otherdomain.com:8080']] }), 'Set-Cookie')!, /; Domain=domain\.com; /, '31: multiple origins');
  t.notMatch(header(await request(multi.port, { path: '/i', headers: [['Origin', 'http://nomatch.org']] }), 'Set-Cookie')!, /Domain=/, '31: no match and no fallback => none');
  const cfg = { enabled: true, expiration: 1, name: 'sp', secure: true, httpOnly: true, sameSite: 'None' as const, clientCookieName: null };
  t.equal(chooseCookieDomain({ ...cfg, domains: ['domain.com'], fallbackDomain: null }, ['www.domain.com']), 'domain.com', '31: www.domain.com => domain.com');
  t.equal(chooseCookieDomain({ ...cfg, domains: [], fallbackDomain: 'fb.com' }, ['x.com']), 'fb.com', '31: fallback without domains');
  for (const host of ['snplow.com', 'blog.snplow.com', 'blog.snplow.com.snplow.com']) t.ok(domainMatches(host, 'snplow.com'), `32: ${host} matches`);
  for (const host of ['notsnplow.com', 'blog.snplow.comsnplow.com']) t.notOk(domainMatches(host, 'snplow.com'), `32: ${host} does not match`);
});

t.test('cookie bounce (36)', async (t) => {
  const s = await server({ collector: { cookieBounce: { enabled: true } } });
  const r1 = await request(s.port, { path: '/i?e=pv' });
  t.equal(r1.status, 302, '36: no nuid => bounce');
  t.equal(header(r1, 'Location'), '/i?e=pv&n3pc=true', '36: Location = request target + n3pc=true');
  t.match(header(r1, 'Set-Cookie')!, /^sp=[0-9a-f-]{36};/, 'bounce sets a fresh cookie');
  t.equal(s.records().length, 0, 'bounce stores no event');
  const r2 = await request(s.port, { path: '/i?e=pv&n3pc=true' });
  t.equal(r2.status, 200, '36: n3pc present => no bounce');
  t.equal(s.records()[0]!.networkUserId, '00000000-0000-4000-A000-000000000000', 'fallback nuid when the cookie did not stick');
  const r3 = await request(s.port, { path: '/i?e=pv&nuid=abc' });
  t.equal(r3.status, 200, '36: nuid param => no bounce');
  t.equal(header(r3, 'Location'), undefined);
  const r4 = await request(s.port, { path: '/i', headers: [['Cookie', 'sp=known']] });
  t.equal(r4.status, 200, 'cookie present => no bounce');
  const r5 = await request(s.port, { method: 'POST', path: TP2, body: '{}' });
  t.equal(r5.status, 200, 'POST is never bounced');
  const noQuery = await request(s.port, { path: '/i' });
  t.equal(header(noQuery, 'Location'), '/i?n3pc=true', '36: without a query');

  const proto = await server({ collector: { cookieBounce: { enabled: true, forwardedProtocolHeader: 'X-Forwarded-Proto' } } });
  const r6 = await request(proto.port, { path: '/i?e=pv', headers: [['Host', 'collector.acme.com'], ['X-Forwarded-Proto', 'https']] });
  t.equal(header(r6, 'Location'), 'https://collector.acme.com/i?e=pv&n3pc=true', 'forwardedProtocolHeader gives an absolute Location');
});
