// The admin port answers only loopback or configured Host names (issue 20, item 10): the shape a
// DNS-rebinding page needs (its own name, resolving to 127.0.0.1) gets 421 and no data.
import t from 'tap';
import { AdminHostPolicy, hostOnly } from '../src/ops/admin-host';
import { request } from './helpers/http';
import { serverPool } from './helpers/server';

t.test('AdminHostPolicy', async (t) => {
  t.equal(hostOnly('LocalHost:9090'), 'localhost');
  t.equal(hostOnly('[::1]:9090'), '::1');
  t.equal(hostOnly('metrics.internal'), 'metrics.internal');
  const p = new AdminHostPolicy('10.1.2.3', ['Metrics.Internal']);
  for (const ok of ['localhost:9090', '127.0.0.1:9090', '127.0.0.53', '[::1]:9090', '10.1.2.3:9090', 'metrics.internal:9090']) t.ok(p.allows(ok), `${ok} allowed`);
  for (const bad of ['evil.example', 'evil.example:9090', 'localhost.evil.example', '127.0.0.1.evil.example', '', undefined]) t.notOk(p.allows(bad), `${String(bad)} refused`);
});

t.test('the admin port refuses a foreign Host with 421', async (t) => {
  const server = serverPool(t);
  const s = await server({ ship: { enabled: false }, admin: { allowedHosts: ['collector-7.internal'] } });
  for (const path of ['/status.json', '/metrics', '/health', '/status']) {
    const evil = await request(s.adminPort!, { path, headers: [['Host', 'evil.example']] });
    t.equal(evil.status, 421, `${path} with Host evil.example: 421`);
    t.notMatch(evil.text, /sluice_|"checks"|<html/i, 'and no data');
  }
  t.equal((await request(s.adminPort!, { path: '/metrics', headers: [['Host', `localhost:${s.adminPort}`]] })).status, 200, 'localhost: 200');
  t.equal((await request(s.adminPort!, { path: '/metrics' })).status, 200, '127.0.0.1 (the client default): 200');
  t.equal((await request(s.adminPort!, { path: '/health', headers: [['Host', 'collector-7.internal:9090']] })).status, 200, 'a configured name: 200');
});
