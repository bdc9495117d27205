// Spec §2 (endpoints and responses): checklist items 11-14, 20, 23, 24, 34, 37-39, 44, 45, 62;
// §7 Clojure-migration points (/healthcheck, P3P).
import t from 'tap';
import { header, headerValues, request } from './helpers/http';
import { serverPool } from './helpers/server';

const GIF = Buffer.from('R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const ROBOTS = 'User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /';
const server = serverPool(t);
const names = (r: { headers: Array<[string, string]> }): string[] => r.headers.map(([k]) => k).filter((k) => !['Date', 'Content-Length', 'Connection', 'Keep-Alive'].includes(k));

t.test('pixel and POST responses (11, 12, 24)', async (t) => {
  const s = await server();
  const px = await request(s.port, { path: '/i?e=pv' });
  t.equal(px.status, 200);
  t.equal(header(px, 'Cache-Control'), 'no-cache, no-store, must-revalidate', '11: Cache-Control on pixels');
  t.ok(px.body.equals(GIF), '11: body is the 43-byte GIF');
  t.equal(px.body.length, 43);
  t.equal(header(px, 'Content-Type'), 'image/gif', '24: image/gif');
  t.equal(header(px, 'Access-Control-Allow-Origin'), '*', '12: ACAO * without Origin');
  t.equal(header(px, 'Access-Control-Allow-Credentials'), 'true', '12: ACAC true');
  t.same(names(px), ['Set-Cookie', 'Cache-Control', 'Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Content-Type'], '3.x header order');
  const post = await request(s.port, { method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2', body: '{}' });
  t.equal(post.text, 'ok', '24: POST answers ok');
  t.equal(header(post, 'Content-Type'), 'text/plain', '24: text/plain');
  t.equal(header(post, 'Cache-Control'), undefined, 'no Cache-Control on POST');
  t.equal(header(post, 'P3P'), undefined, 'no P3P by default (3.x)');
  const head = await request(s.port, { method: 'HEAD', path: '/i' });
  t.equal(head.status, 200);
  t.equal(header(head, 'Content-Length'), '43', 'HEAD reports the pixel length');
  t.equal(head.body.length, 0);
  t.equal((await request(s.port, { method: 'POST', path: '/i', body: 'x' })).status, 404, 'POST /i => 404');
});

t.test('CORS (13, 20, 38)', async (t) => {
  const s = await server();
  const r = await request(s.port, { path: '/i', headers: [['Origin', 'http://origin.com http://otherorigin.com:8080']] });
  t.equal(header(r, 'Access-Control-Allow-Origin'), 'http://origin.com', '13: first origin');
  const port = await request(s.port, { path: '/i', headers: [['Origin', 'https://a.example:8443']] });
  t.equal(header(port, 'Access-Control-Allow-Origin'), 'https://a.example:8443', 'port kept');
  const nul = await request(s.port, { path: '/i', headers: [['Origin', 'null']] });
  t.equal(header(nul, 'Access-Control-Allow-Origin'), '*', 'Origin null => *');
  for (const path of ['/i', '/health', '/p3/p4', '/anything/at/all']) {
    const pre = await request(s.port, { method: 'OPTIONS', path });
    t.equal(pre.status, 200, `38: OPTIONS ${path}`);
    t.same(pre.headers.filter(([k]) => k.startsWith('Access-Control')), [
      ['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Headers', 'Content-Type, SP-Anonymous'], ['Access-Control-Max-Age', '3600'],
    ], '20: preflight headers exactly');
    t.equal(pre.body.length, 0, 'empty body');
  }
  t.equal(s.records().length, 3, 'preflights store nothing');
});

t.test('redirects (14, 23, 44)', async (t) => {
  const off = await server();
  for (const method of ['GET', 'POST', 'OPTIONS']) {
    const r = await request(off.port, { method, path: '/r/abc?u=https://x.com', ...(method === 'POST' ? { body: '{}' } : {}) });
    t.equal(r.status, 404, `44: ${method} /r/abc 404 when redirects are off`);
    t.equal(r.text, 'redirects disabled');
  }
  t.equal(off.records().length, 0);

  const on = await server({ collector: { enableDefaultRedirect: true, redirectDomains: ['snowplow.acme.com', 'example1.com'] } });
  const ok = await request(on.port, { path: '/r/example?u=https://snowplow.acme.com/12' });
  t.equal(ok.status, 302, '14: allowed host => 302');
  t.equal(header(ok, 'Location'), 'https://snowplow.acme.com/12', '14: Location = u');
  t.ok(header(ok, 'Set-Cookie') !== undefined && header(ok, 'Access-Control-Allow-Origin') === '*', '23: other headers kept');
  t.equal(on.records().length, 1, '14: one good record');
  t.equal(on.records()[0]!.path, '/r/example');
  const none = await request(on.port, { path: '/r/example' });
  t.equal(none.status, 400, '23: no u => 400');
  t.equal(header(none, 'Location'), undefined, '23: no Location');
  const bad = await request(on.port, { path: '/r/example?u=https://invalidexample1.com/' });
  t.equal(bad.status, 400, '23: invalidexample1.com vs example1.com => 400');
  const post = await request(on.port, { method: 'POST', path: '/r/abc?u=https%3A%2F%2Fexample1.com%2Fx', body: '{}' });
  t.equal(post.status, 302, '44: POST /r/abc handled');
  const any = await server({ collector: { enableDefaultRedirect: true } });
  const anyHost = await request(any.port, { path: '/r/x?u=https%3A%2F%2Fanywhere.org%2Fpath%3Fq%3D1' });
  t.equal(anyHost.status, 302, '23: empty allow-list => any host');
  t.equal(header(anyHost, 'Location'), 'https://anywhere.org/path?q=1', 'u decoded once');
});

t.test('health, robots, crossdomain, root, 404 (34, 37, 45, 62) and Clojure aliases', async (t) => {
  const s = await server();
  const h = await request(s.port, { path: '/health' });
  t.equal(h.status, 200, '37: /health 200');
  t.equal(h.text, 'ok');
  t.equal((await request(s.port, { path: '/healthcheck' })).text, 'ok', 'Clojure /healthcheck alias');
  const sh = await request(s.port, { path: '/sink-health' });
  t.same([sh.status, sh.text], [200, 'ok'], '/sink-health');
  const robots = await request(s.port, { path: '/robots.txt' });
  t.equal(robots.text, ROBOTS, '62: robots body exactly');
  t.equal(s.records().length, 0, '62: no records');
  const nf = await request(s.port, { path: '/nope' });
  t.same([nf.status, nf.text, header(nf, 'Content-Type')], [404, 'Not found', 'text/plain; charset=UTF-8'], 'unknown path 404');
  t.equal((await request(s.port, { path: '/a/b/c' })).status, 404, 'three segments => 404');
  t.equal((await request(s.port, { path: '/' })).status, 404, '45: root disabled => 404');
  t.equal((await request(s.port, { path: '/crossdomain.xml' })).status, 404, '45: crossdomain disabled => 404');
  t.equal((await request(s.port, { method: 'PUT', path: '/a/b', body: 'x' })).status, 404, 'PUT on an event path => 404');

  const on = await server({ collector: { rootResponse: { enabled: true, statusCode: 302, headers: { Location: 'https://acme.com', 'X-Custom': 'y' }, body: 'moved' }, crossDomain: { enabled: true, domains: ['*.acme.com', 'x.org'], secure: false } } });
  const root = await request(on.port, { path: '/' });
  t.same([root.status, header(root, 'Location'), header(root, 'X-Custom'), root.text], [302, 'https://acme.com', 'y', 'moved'], '45: root response');
  const cd = await request(on.port, { path: '/crossdomain.xml' });
  t.equal(header(cd, 'Content-Type'), 'text/xml');
  t.equal(cd.text, '<?xml version="1.0"?>\n<cross-domain-policy>\n<allow-access-from domain="*.acme.com" secure="false" />\n<allow-access-from domain="x.org" secure="false" />\n</cross-domain-policy>', '34: crossdomain body');
});

t.test('HSTS (39) and P3P option (Clojure migration)', async (t) => {
  const s = await server({ collector: { hsts: { enable: true, maxAge: '180 days' }, p3p: { enabled: true } } });
  for (const path of ['/i', '/health', '/nope']) {
    t.equal(header(await request(s.port, { path }), 'Strict-Transport-Security'), 'max-age=15552000; includeSubDomains', `39: HSTS on ${path}`);
  }
  const px = await request(s.port, { path: '/i' });
  t.equal(header(px, 'P3P'), 'policyref="/w3c/p3p.xml", CP="NOI DSP COR NID PSA OUR IND COM NAV STA"', 'P3P header as the Clojure Collector sent it');
  const off = await server();
  t.equal(header(await request(off.port, { path: '/i' }), 'Strict-Transport-Security'), undefined, '39: off => absent');
  t.equal(headerValues(await request(off.port, { path: '/i' }), 'P3P').length, 0);
});
