// The pessimistic /health, one transition at a time, read on both ports: the public /health (SSC's,
// 503 with the reason) and the admin /health (JSON with every check).
import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import { request } from './helpers/http';
import { shipEnv, startS3, waitFor } from './helpers/s3';
import { serverPool, startServer, type RunningServer } from './helpers/server';

const server = serverPool(t);

interface AdminHealth { healthy: boolean; phase: string; checks: Array<{ name: string; ok: boolean; detail: string }> }

async function adminHealth(s: RunningServer): Promise<{ status: number; body: AdminHealth }> {
  const r = await request(s.adminPort!, { path: '/health' });
  return { status: r.status, body: JSON.parse(r.text) as AdminHealth };
}

function failing(h: AdminHealth): string[] {
  return h.checks.filter((c) => !c.ok).map((c) => c.name);
}

/** Waits until both ports agree on the state and the admin names exactly the failing checks. */
async function expectHealth(t: Test, s: RunningServer, want: string[], reason: RegExp | null, what: string): Promise<void> {
  const got = await waitFor(what, async () => {
    const a = await adminHealth(s);
    const p = await request(s.port, { path: '/health' });
    const names = failing(a.body);
    return names.join() === want.join() && (p.status === 200) === (want.length === 0) ? { a, p } : null;
  }, 20_000, 100);
  t.equal(got.a.status, want.length === 0 ? 200 : 503, `${what}: admin /health ${got.a.status}`);
  t.same(failing(got.a.body), want, `${what}: failing checks ${want.join(', ') || 'none'}`);
  if (reason === null) t.equal(got.p.text, 'ok', `${what}: public /health ok`);
  else t.match(got.p.text, reason, `${what}: public /health says why (${got.p.text})`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

t.test('starting until S3 answers, then healthy', async (t) => {
  const port = await freePort();
  const env = { ...shipEnv({ endpoint: `http://127.0.0.1:${port}` }), SLUICE_PORT: '0' };
  const s = await startServer({ config: { ship: { retryBaseDelayMs: '50 ms', retryMaxDelayMs: '300 ms' } }, env, waitShipper: false });
  t.teardown(() => s.stop());
  await expectHealth(t, s, ['s3'], /S3 not answering/, 'S3 down at start');
  t.equal((await request(s.port, { path: '/i?e=pv' })).status, 200, 'events are accepted meanwhile (the WAL holds them)');
  const s3 = await startS3(port);
  t.teardown(() => s3.stop());
  await expectHealth(t, s, [], null, 'S3 up');
});

t.test('the WAL over its unshipped-bytes cap: unhealthy, events 503', async (t) => {
  const s = await server({ ship: { enabled: false }, wal: { maxUnshippedBytes: '1 MiB' } });
  const pad = 'x'.repeat(4000);
  let refused = 0;
  for (let i = 0; i < 400 && refused === 0; i++) {
    if ((await request(s.port, { path: `/i?e=pv&pad=${pad}` })).status === 503) refused++;
  }
  t.equal(refused, 1, 'an event over the cap gets 503');
  await expectHealth(t, s, ['wal'], /unshipped WAL bytes \d+ exceed the cap/, 'cap reached');
  const m = (await request(s.adminPort!, { path: '/metrics' })).text;
  t.match(m, /^sluice_wal_refused_total [1-9]/m, 'the refusal is counted');
  t.match(m, /^sluice_healthy\{check="wal"\} 0$/m, 'the failing check is a metric');
});

t.test('slow syncs: unhealthy while over the bound', async (t) => {
  const s = await server({ ship: { enabled: false }, wal: { maxSyncLatencyMs: '100 ms' } }, { SLUICE_FAULT_SYNC_DELAY_MS: '300' });
  await expectHealth(t, s, [], null, 'before any sync');
  t.equal((await request(s.port, { path: '/i?e=pv' })).status, 200, 'a slow sync still acknowledges');
  await expectHealth(t, s, ['wal'], /the last WAL sync took \d+ ms \(bound 100 ms\)/, 'after a 300 ms sync');
});

t.test('a blocked event loop: unhealthy', async (t) => {
  const s = await server({ ship: { enabled: false }, admin: { maxEventLoopDelayMs: '100 ms' } }, { SLUICE_FAULT_LOOP_BLOCK_MS: '400' });
  await expectHealth(t, s, ['event-loop'], /event-loop delay \d+ ms exceeds 100 ms/, 'loop blocked 400 ms every 1.5 s');
});

t.test('shipping lag over ship.maxLagMs while S3 is down, healthy once it is back', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await server({ ship: { maxLagMs: '2 seconds', retryBaseDelayMs: '50 ms', retryMaxDelayMs: '300 ms' } }, shipEnv(s3, 1));
  await expectHealth(t, s, [], null, 'shipping');
  await s3.stop();
  t.equal((await request(s.port, { path: '/i?e=pv&eid=during-outage' })).status, 200, 'events are acknowledged during the outage');
  await expectHealth(t, s, ['shipping-lag'], /shipping lag [\d.]+ s exceeds 2 s/, 'S3 down');
  await s3.restart();
  await expectHealth(t, s, [], null, 'S3 back');
});

t.test('SIGTERM: pre-termination, then draining, then exit 0', async (t) => {
  const s = await startServer({ config: { ship: { enabled: false }, collector: { preTerminationPeriod: '1500 ms' } } });
  t.teardown(() => s.stop());
  await expectHealth(t, s, [], null, 'serving');
  s.proc.kill('SIGTERM');
  await expectHealth(t, s, ['phase'], /shutting down \(pre-termination period\)/, 'after SIGTERM');
  const h = await adminHealth(s);
  t.equal(h.body.phase, 'pre-termination');
  t.equal((await request(s.port, { path: '/i?e=pv' })).status, 200, 'still serving events');
  t.equal(await s.exited, 0, 'exit 0');
});
