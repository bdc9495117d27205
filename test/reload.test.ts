// SIGHUP (issue 24): the collector reads its file again and applies what can change safely (here
// the redirect allow-list) to the next requests, logs what changed and what needs a restart, and
// refuses a file that does not validate, keeping the running configuration. It never exits.
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { configFromObject } from '../src/config/load';
import { planReload, reloadedConfig } from '../src/process/reload';
import { request } from './helpers/http';
import { startServer } from './helpers/server';
import { waitFor } from './helpers/wait';

t.test('planReload: applied and needing a restart', async (t) => {
  const a = configFromObject({}).config;
  const b = configFromObject({ collector: { redirectDomains: ['x.example'], port: 9000, cookie: { name: 'sp2' } }, wal: { maxPendingRecords: 10 }, ship: { maxLagMs: '20 minutes' } }).config;
  const plan = planReload(a, b);
  t.same(plan.applied, ['collector.cookie.name', 'collector.redirectDomains', 'ship.maxLagMs']);
  t.same(plan.needRestart, ['collector.port', 'wal.maxPendingRecords']);
  const r = reloadedConfig(a, b);
  t.same(r.collector.redirectDomains, ['x.example'], 'applied');
  t.equal(r.collector.port, a.collector.port, 'a restart key keeps its running value');
  t.equal(r.wal.maxPendingRecords, a.wal.maxPendingRecords);
  t.same(planReload(a, a), { applied: [], needRestart: [] });
});

t.test('SIGHUP reloads the redirect allow-list; an invalid file is refused', async (t) => {
  const first = { ship: { enabled: false }, collector: { enableDefaultRedirect: true, redirectDomains: ['old.example'] } };
  const s = await startServer({ config: first });
  t.teardown(() => s.stop());
  const file = /--config (\S+)/.exec(s.proc.spawnargs.join(' '))![1]!;
  const to = (host: string): Promise<number> => request(s.port, { path: `/r/tp2?u=${encodeURIComponent(`https://${host}/`)}` }).then((r) => r.status);
  t.equal(await to('old.example'), 302);
  t.equal(await to('new.example'), 400, 'not allowed yet');
  writeFileSync(file, JSON.stringify({ ...first, collector: { ...first.collector, redirectDomains: ['new.example'] }, wal: { maxPendingRecords: 5000 } }));
  s.proc.kill('SIGHUP');
  await waitFor('the reload', async () => (/"msg":"reloaded"/.test(s.output()) ? true : null), 10_000, 50);
  t.equal(await to('new.example'), 302, 'the new allow-list applies');
  t.equal(await to('old.example'), 400, 'the old one is gone');
  t.match(s.output(), /"applied":\["collector.redirectDomains"\],"needRestart":\["wal.maxPendingRecords"\]/, 'logged: what changed and what needs a restart');
  writeFileSync(file, '{ "collector": { "noSuchKey": 1 } }');
  s.proc.kill('SIGHUP');
  await waitFor('the refusal', async () => (/"msg":"reload refused: the running configuration is kept"/.test(s.output()) ? true : null), 10_000, 50);
  t.equal(await to('new.example'), 302, 'still the last valid configuration');
  t.equal(s.proc.exitCode, null, 'alive: SIGHUP never stops the collector');
  t.equal((await request(s.port, { path: '/i?e=pv' })).status, 200);
});
