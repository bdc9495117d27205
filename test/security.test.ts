// Security: the redirect allow-list cannot be bypassed, cookie values with injected attributes are
// never echoed into Set-Cookie, the admin port is on loopback unless configured, and hostile
// configuration values are refused with an error naming the key.
import t from 'tap';
import * as net from 'node:net';
import { networkInterfaces } from 'node:os';
import { configFromObject } from '../src/config/load';
import { header, headerValues, request } from './helpers/http';
import { recordScenario } from './helpers/reliability';
import { serverPool } from './helpers/server';

const server = serverPool(t);
let checks = 0;
let failures = 0;
const count = (ok: boolean): boolean => { checks++; if (!ok) failures++; return ok; };

t.test('the redirect allow-list cannot be bypassed', async (t) => {
  const s = await server({ ship: { enabled: false }, collector: { enableDefaultRedirect: true, redirectDomains: ['good.com'] } });
  const attempts: Array<[string, number, string?]> = [
    ['https://good.com/x', 302, 'https://good.com/x'],
    ['https://good.com@evil.com/', 400],
    ['https://evil.com\\@good.com/', 400],
    ['https://good.com\\@evil.com/', 302, 'https://good.com/@evil.com/'],
    ['https://good.com%2f@evil.com/', 400],
    ['https://evil.com#@good.com', 400],
    ['https://evil.com?@good.com', 400],
    ['//evil.com/', 400],
    ['/\\evil.com', 400],
    ['https:/\\evil.com', 400],
    ['\\\\evil.com', 400],
    ['javascript:alert(1)//good.com', 400],
    ['JavaScript:alert(1)', 400],
    ['data:text/html,hi', 400],
    ['vbscript:msgbox(1)', 400],
    ['ftp://good.com/', 400],
    ['HTTPS://GOOD.COM/x', 302, 'https://good.com/x'],
    ['https://good.com:8443/x', 302, 'https://good.com:8443/x'],
    ['https://good.com.evil.com/', 400],
    ['https://evilgood.com/', 400],
    ['https://good.com./', 400],
    ['https://evil.com/?https://good.com', 400],
    ['https://gööd.com/', 400],
    ['https://xn--gd-fkab.com/', 400],
    ['https://good.com%0d%0aSet-Cookie:x=1', 400],
    [' https://evil.com', 400],
    ['https://127.0.0.1/', 400],
    ['https://0x7f.1/', 400],
    ['', 400],
  ];
  for (const [u, status, location] of attempts) {
    const r = await request(s.port, { path: `/r/x?u=${encodeURIComponent(u)}` });
    t.ok(count(r.status === status), `${JSON.stringify(u)} => ${r.status} (expected ${status})`);
    if (location !== undefined) t.ok(count(header(r, 'Location') === location), `Location ${header(r, 'Location')}`);
    else t.ok(count(header(r, 'Location') === undefined), 'no Location');
  }
});

t.test('injected cookie attributes are never echoed into Set-Cookie', async (t) => {
  const s = await server({ ship: { enabled: false } });
  const strict = /^sp=[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+; Expires=[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT; Path=\/; SameSite=None; Secure; HttpOnly$/;
  const vectors: Array<[string, Array<[string, string]>]> = [
    ['/i?nuid=x%3B%20Domain%3Devil.com%3B%20Max-Age%3D99999999', []],
    ['/i?nuid=x%0d%0aSet-Cookie%3A%20evil%3D1', []],
    ['/i?nuid=%22quoted%3B%20Domain%3Devil%22', []],
    ['/i?nuid=a%2Cb', []],
    ['/i', [['Cookie', 'sp=abc; Domain=evil.com']]],
    ['/i', [['Cookie', 'sp="abc; Domain=evil.com"']]],
    ['/i', [['Cookie', 'sp=abc,Domain=evil.com']]],
    ['/i', [['Cookie', 'sp=abc\tDomain=evil.com']]],
    ['/i', [['Cookie', `sp=${'a'.repeat(5000)}`]]],
  ];
  for (const [path, headers] of vectors) {
    const r = await request(s.port, { path, headers });
    t.ok(count(r.status === 200), `${path} ${JSON.stringify(headers)} answered 200`);
    for (const c of headerValues(r, 'Set-Cookie')) {
      t.ok(count(strict.test(c) && !/evil/i.test(c)), `Set-Cookie is one clean cookie: ${c.slice(0, 120)}`);
    }
  }
  t.equal(s.proc.exitCode, null);
});

t.test('the admin port binds to loopback unless configured', async (t) => {
  const external = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
  const connects = (host: string, port: number): Promise<boolean> => new Promise((resolve) => {
    const sock = net.connect(port, host, () => { sock.destroy(); resolve(true); });
    sock.on('error', () => resolve(false));
    sock.setTimeout(2000, () => { sock.destroy(); resolve(false); });
  });
  const s = await server({ ship: { enabled: false } });
  t.ok(count(await connects('127.0.0.1', s.adminPort!)), 'reachable on 127.0.0.1');
  t.equal((await request(s.port, { path: '/metrics' })).status, 404, 'not on the public port');
  if (external === undefined) {
    t.comment('no non-loopback IPv4 address here: the external checks are skipped');
    return;
  }
  t.ok(count(!(await connects(external, s.adminPort!))), `not reachable on ${external} by default`);
  const open = await server({ ship: { enabled: false }, admin: { interface: '0.0.0.0' } });
  t.ok(count(await connects(external, open.adminPort!)), `reachable on ${external} with admin.interface = 0.0.0.0`);
});

t.test('hostile configuration values are refused, naming the key', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ collector: { cookie: { name: 'sp; Domain=evil' } } }, /^config collector\.cookie\.name:/],
    [{ collector: { cookie: { domains: ['acme.com; Secure'] } } }, /^config collector\.cookie\.domains:/],
    [{ collector: { cookie: { fallbackDomain: 'a.com\r\nX: y' } } }, /^config collector\.cookie\.fallbackDomain:/],
    [{ collector: { cookie: { clientCookieName: 'a=b' } } }, /^config collector\.cookie\.clientCookieName:/],
    [{ collector: { doNotTrackCookie: { enabled: true, name: 'a;b', value: 'x' } } }, /^config collector\.doNotTrackCookie\.name:/],
    [{ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: '(a+)+$' } } }, /^config collector\.doNotTrackCookie\.value: a quantified group/],
    [{ collector: { doNotTrackCookie: { enabled: true, name: 'dnt', value: '(?:x|y*){2,}' } } }, /^config collector\.doNotTrackCookie\.value: a quantified group/],
    [{ collector: { rootResponse: { enabled: true, headers: { 'X-A': 'v\r\nSet-Cookie: evil=1' } } } }, /^config collector\.rootResponse\.headers/],
    [{ collector: { rootResponse: { headers: { 'X A:': 'v' } } } }, /^config collector\.rootResponse\.headers/],
    [{ collector: { paths: { '/a/b\r\n': '/com.snowplowanalytics.snowplow/tp2' } } }, /^config collector\.paths/],
    [{ collector: { redirectDomains: ['evil.com/path'] } }, /^config collector\.redirectDomains:/],
    [{ collector: { crossDomain: { domains: ['"><script>'] } } }, /^config collector\.crossDomain\.domains:/],
    [{ collector: { p3p: { CP: 'x" evil="1' } } }, /^config collector\.p3p\.CP:/],
    [{ collector: { interface: '0.0.0.0; rm -rf /' } }, /^config collector\.interface:/],
    [{ collector: { networking: { maxConnections: 1e9 } } }, /^config collector\.networking\.maxConnections:/],
    [{ admin: { interface: '0.0.0.0 && curl evil' } }, /^config admin\.interface:/],
    [{ admin: { port: 8080 }, collector: { port: 8080 } }, /^config admin\.port: must differ/],
    [{ ship: { keyTemplate: '../{instance}-{seq}.{ext}' } }, /^config ship\.keyTemplate: .* \.\. segment/],
    [{ ship: { keyTemplate: '{prefix}/{yyyy}/{evil}/{instance}-{seq}.{ext}' } }, /^config ship\.keyTemplate: unknown placeholder/],
    [{ s3: { prefix: '../../etc' } }, /^config s3\.prefix:/],
    [{ s3: { badPrefix: '/abs' } }, /^config s3\.badPrefix:/],
    [{ s3: { endpoint: 'file:///etc/passwd' } }, /^config s3\.endpoint:/],
    [{ s3: { bucket: 'Bucket_With..Bad/Chars' } }, /^config s3\.bucket:/],
    [{ wal: { segmentBytes: '100 TiB' } }, /^config wal\.segmentBytes:/],
    [{ wal: { maxPendingRecords: -1 } }, /^config wal\.maxPendingRecords:/],
  ];
  for (const [raw, key] of cases) {
    let message = '';
    try {
      configFromObject(raw);
    } catch (e) {
      message = (e as Error).message;
    }
    t.ok(count(key.test(message)), `${JSON.stringify(raw)} => ${message || 'accepted!'}`);
  }
});

t.test('record the security figures', async (t) => {
  t.equal(failures, 0, `${checks} security checks, ${failures} failed`);
  recordScenario({ id: 'security', group: 'security', title: 'Redirect allow-list bypasses, cookie attribute injection, admin port exposure, hostile configuration values', checks, notes: `${checks} checks, ${failures} failed` }, failures === 0 && checks > 60);
});
