// Spec §4 (record fields): checklist items 5, 6, 8, 9, 10, 21, 29, 40-43, 54, 60, 63, 73, 74.
import t from 'tap';
import { request, rawRequest } from './helpers/http';
import { serverPool } from './helpers/server';
import { rewriteCookieHeader } from '../src/payload/cookie-header';
import { forwardedFor, renderIp } from '../src/payload/client-ip';
import { canonicalHeaderName } from '../src/payload/header-names';

const SCHEMA = 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0';
const server = serverPool(t);

t.test('full POST record (8) and anonymous variant (9)', async (t) => {
  const s = await server();
  const pkg = require('../package.json') as { version: string };
  const before = Date.now();
  await request(s.port, {
    method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2?a=b',
    headers: [['Host', 'example.com'], ['User-Agent', 'testUserAgent'], ['Referer', 'example.com'], ['Content-Type', 'application/json'], ['X-Forwarded-For', '192.0.2.3'], ['Access-Control-Allow-Credentials', 'true'], ['Cookie', 'cookie=value; sp=nuid-1']],
    body: 'b',
  });
  const r = s.records()[0]!;
  t.equal(r.schema, SCHEMA);
  t.equal(r.ipAddress, '192.0.2.3');
  t.ok(r.timestamp >= before && r.timestamp <= Date.now(), 'timestamp is the server clock');
  t.equal(r.encoding, 'UTF-8');
  t.equal(r.collector, `sluice-${pkg.version}-wal`);
  t.equal(r.querystring, 'a=b');
  t.equal(r.body, 'b');
  t.equal(r.path, '/com.snowplowanalytics.snowplow/tp2');
  t.equal(r.userAgent, 'testUserAgent');
  t.equal(r.refererUri, 'example.com');
  t.equal(r.hostname, 'example.com');
  t.equal(r.networkUserId, 'nuid-1');
  t.equal(r.contentType, 'application/json');
  t.same(r.headers, [
    'Host: example.com', 'User-Agent: testUserAgent', 'Referer: example.com', 'Content-Type: application/json',
    'X-Forwarded-For: 192.0.2.3', 'Access-Control-Allow-Credentials: true', 'Cookie: cookie=value;sp=nuid-1', 'Content-Length: 1',
    'Connection: close', 'application/json',
  ], '8: every header as Name: value in arrival order, Cookie rewritten, bare content type last');

  await request(s.port, {
    method: 'POST', path: '/com.snowplowanalytics.snowplow/tp2',
    headers: [['User-Agent', 'testUserAgent'], ['X-Forwarded-For', '192.0.2.3'], ['X-Real-Ip', '127.0.0.1'], ['Cookie', 'sp=nuid-1'], ['SP-Anonymous', '*']], body: 'b',
  });
  const a = s.records()[1]!;
  t.ok(a.headers!.includes('SP-Anonymous: *'), '9: SP-Anonymous header kept with its casing');
  t.notOk(a.headers!.some((h) => /^(X-Forwarded-For|X-Real-Ip|Cookie):/.test(h)), '9/29/74: XFF, X-Real-Ip and Cookie dropped when anonymous');
  t.ok(a.headers!.includes('User-Agent: testUserAgent'), '29: anonymous keeps User-Agent');
});

t.test('IP address (5, 6, 63) and IPv6', async (t) => {
  const s = await server();
  await request(s.port, { path: '/i', headers: [['X-Forwarded-For', '192.0.2.4']] });
  await request(s.port, { path: '/i' });
  await request(s.port, { path: '/i', headers: [['X-Forwarded-For', '123.123.123.123']] });
  await request(s.port, { path: '/i', headers: [['X-Forwarded-For', '2001:db8:0:0:0:0:0:1, 10.0.0.1']] });
  await request(s.port, { path: '/i', headers: [['X-Forwarded-For', 'not-an-ip']] });
  await request(s.port, { path: '/i', headers: [['X-Forwarded-For', 'unknown, 10.0.0.1']] });
  const recs = s.records();
  t.equal(recs[0]!.ipAddress, '192.0.2.4', '5: first XFF entry');
  t.equal(recs[1]!.ipAddress, '127.0.0.1', '6: peer without XFF (IPv4-mapped peer rendered as IPv4)');
  t.ok(recs[2]!.headers!.includes('X-Forwarded-For: 123.123.123.123'), '63: XFF header kept in the record');
  t.equal(recs[3]!.ipAddress, '[2001:db8::1]', 'IPv6 compressed, in brackets');
  t.equal(recs[4]!.ipAddress, '127.0.0.1', 'unparseable XFF => peer');
  t.equal(recs[5]!.ipAddress, 'unknown', 'XFF entry unknown => unknown');
  t.equal(renderIp('0000:0000:0000:0000:0000:0000:0000:0001'), '[::1]');
  t.equal(renderIp('0000:0000:0000:0000:0000:ffff:c000:0202'), '192.0.2.2');
  t.equal(forwardedFor('[2001:db8::5], 1.1.1.1'), '[2001:db8::5]');
  t.equal(forwardedFor('1.1.1.1,,2.2.2.2'), null);
});

t.test('absent inputs (21), GET body ignored (41), pixel paths (42)', async (t) => {
  const s = await server();
  await rawRequest(s.port, 'GET /i HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n');
  const r = s.records()[0]!;
  t.equal(r.querystring, '', '3.x: querystring is "" when absent');
  t.equal(r.body, null, '21: no body');
  t.equal(r.userAgent, null, '21: no userAgent');
  t.equal(r.refererUri, null, '21: no refererUri');
  t.equal(r.hostname, null, '21: no hostname for an empty Host');
  t.equal(r.contentType, null, '21: no contentType');
  t.same(r.headers, ['Host: ', 'Connection: close'], 'only the headers sent');

  await request(s.port, { method: 'GET', path: '/p3/p4', headers: [['Content-Type', 'application/json'], ['Content-Length', '4']], body: 'abcd' });
  const g = s.records()[1]!;
  t.equal(g.body, null, '41: GET body ignored');
  t.equal(g.contentType, null, '41: no content type on GET');
  t.equal(g.path, '/p3/p4');
  const head = await request(s.port, { method: 'HEAD', path: '/p3/p4' });
  t.equal(head.status, 200, '41: HEAD on vendor path');
  t.equal(head.body.length, 0, 'HEAD has no body');
  await request(s.port, { path: '/ice.png?e=pv' });
  await request(s.port, { method: 'HEAD', path: '/i' });
  const recs = s.records();
  t.equal(recs[2]!.path, '/p3/p4');
  t.equal(recs[3]!.path, '/ice.png', '42: /ice.png kept as requested');
  t.equal(recs[4]!.path, '/i', '42: HEAD /i');
});

t.test('POST vendor path (40), Iglu webhook forms (43), custom paths (33, 60)', async (t) => {
  const s = await server({ collector: { paths: { '/com.acme/track': '/com.snowplowanalytics.snowplow/tp2', '/com.acme/redirect': '/r/tp2', '/com.acme/iglu': '/com.snowplowanalytics.iglu/v1' } } });
  await request(s.port, { method: 'POST', path: '/p3/p4', headers: [['Content-Type', 'application/json']], body: '{"a":1}' });
  const r = s.records()[0]!;
  t.equal(r.body, '{"a":1}', '40: body passed');
  t.equal(r.path, '/p3/p4');
  t.equal(r.contentType, 'application/json', '40: content type');

  const iglu = '/com.snowplowanalytics.iglu/v1';
  const sdj = '{"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{"x":1}}';
  await request(s.port, { method: 'POST', path: iglu, headers: [['Content-Type', 'application/json']], body: sdj });
  await request(s.port, { method: 'POST', path: `${iglu}?schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0`, headers: [['Content-Type', 'application/json; charset=UTF-8']], body: '{"x":1}' });
  await request(s.port, { method: 'POST', path: `${iglu}?schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'x=1&y=2' });
  await request(s.port, { path: `${iglu}?schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0&x=1` });
  const forms = s.records().slice(1, 5);
  t.same(forms.map((f) => f.path), [iglu, iglu, iglu, iglu], '43: all four Iglu forms routed');
  t.equal(forms[1]!.contentType, 'application/json; charset=utf-8', '43: charset kept (lower-cased)');
  t.equal(forms[2]!.body, 'x=1&y=2');
  t.equal(forms[3]!.querystring, 'schema=iglu%3Acom.acme%2Fe%2Fjsonschema%2F1-0-0&x=1', '73: raw query kept encoded');

  await request(s.port, { method: 'POST', path: '/com.acme/track', body: '{}' });
  await request(s.port, { method: 'POST', path: '/com.acme/redirect', body: '{}' });
  await request(s.port, { method: 'POST', path: '/com.acme/iglu', body: '{}' });
  await request(s.port, { method: 'POST', path: '/com.acme/unmapped', body: '{}' });
  t.same(s.records().slice(5).map((x) => x.path), ['/com.snowplowanalytics.snowplow/tp2', '/r/tp2', iglu, '/com.acme/unmapped'], '33/60: mapped paths, unmapped unchanged');
});

t.test('header casing (10) and the RFC 6265 rewrite (54)', async (t) => {
  const s = await server();
  await rawRequest(s.port, 'GET /i HTTP/1.1\r\nhost: x\r\ncookie: name=value\r\nx-custom-thing: 1\r\nsp-anonymous: *\r\ndnt: 1\r\nConnection: close\r\n\r\n');
  const h = s.records()[0]!.headers!;
  t.same(h, ['Host: x', 'X-Custom-Thing: 1', 'SP-Anonymous: *', 'DNT: 1', 'Connection: close'], '10 + anonymity: canonical casing restored');
  await rawRequest(s.port, 'GET /i HTTP/1.1\r\nhost: x\r\ncookie: name=value\r\nConnection: close\r\n\r\n');
  t.ok(s.records()[1]!.headers!.includes('Cookie: name=value'), '10: lower-case cookie recorded as Cookie');
  t.equal(canonicalHeaderName('x-forwarded-for'), 'X-Forwarded-For');
  t.equal(rewriteCookieHeader('name=value'), 'name=value', '54: valid cookie kept');
  t.equal(rewriteCookieHeader('name = value'), 'name=value', '54: spaces removed');
  t.equal(rewriteCookieHeader('a=1; json={"k":"v"}; b=2'), 'a=1;b=2', '54: JSON-valued part dropped in the middle');
  t.equal(rewriteCookieHeader('json={"k":"v"}; b=2'), 'b=2', '54: ... at the start');
  t.equal(rewriteCookieHeader('a=1; json={"k":"v"}'), 'a=1', '54: ... at the end');
  t.equal(rewriteCookieHeader('json={"k":"v"}'), null, '54: only invalid => no header');
  t.equal(rewriteCookieHeader(';'), null, '54: ";" => no header');
  t.equal(rewriteCookieHeader(';;'), null, '54: ";;" => no header');
  await request(s.port, { path: '/i', headers: [['Cookie', 'json={"a":1}']] });
  t.notOk(s.records()[2]!.headers!.some((x) => x.startsWith('Cookie')), '54: no Cookie header left in the record');
});

t.test('non-UTF-8 body is stored as valid UTF-8 text', async (t) => {
  const s = await server();
  const r = await request(s.port, { method: 'POST', path: '/com.acme/v1', headers: [['Content-Type', 'text/plain']], body: Buffer.from([0x61, 0xff, 0xfe, 0x62]) });
  t.equal(r.status, 200);
  t.equal(s.records()[0]!.body, 'a\ufffd\ufffdb', 'invalid bytes replaced by U+FFFD');
});
