// A fuzzer of the HTTP surface: seeded random mutations of valid tracker requests (request lines,
// headers, chunked bodies, invalid UTF-8, huge query strings, thousands of headers), slowloris
// clients and a connection flood up to networking.maxConnections. The server must stay up, answer
// or close every connection within its timeouts, keep serving real trackers, and leave a WAL whose
// every segment scans clean; valid requests split across writes at random points and pipelined
// must all be answered. SLUICE_FUZZ_INPUTS sets the count (default 5000) and
// SLUICE_FUZZ_SEED the seed.
import t from 'tap';
import * as net from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from './helpers/http';
import { peakRss, recordScenario } from './helpers/reliability';
import { serverPool } from './helpers/server';
import { scanSegmentFile } from '../src/wal/segment-scanner';
import { SEGMENT_NAME } from '../src/wal/wal-files';
import { prng } from './helpers/prng';

const server = serverPool(t);
const INPUTS = Number(process.env['SLUICE_FUZZ_INPUTS'] ?? 5000);
const SEED = Number(process.env['SLUICE_FUZZ_SEED'] ?? 20261126);
const TP2 = '/com.snowplowanalytics.snowplow/tp2';
/** Valid requests split across writes and pipelined (SLUICE_FUZZ_SPLIT_INPUTS, default 400). */
const SPLIT_INPUTS = Number(process.env['SLUICE_FUZZ_SPLIT_INPUTS'] ?? 400);


type Gen = (r: () => number) => Buffer;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const bytes = (r: () => number, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
const B = (s: string): Buffer => Buffer.from(s, 'latin1');
const body = (): string => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', eid: 'fz' }] });

/** Valid requests, the seeds that the mutations start from. */
const valid: Gen[] = [
  () => B('GET /i?e=pv&eid=fz&url=https%3A%2F%2Facme.com%2F HTTP/1.1\r\nHost: c.acme.com\r\nUser-Agent: Mozilla/5.0\r\nCookie: sp=abc\r\n\r\n'),
  () => B(`POST ${TP2} HTTP/1.1\r\nHost: c.acme.com\r\nContent-Type: application/json\r\nContent-Length: ${body().length}\r\n\r\n${body()}`),
  () => { const b = body(); return B(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`); },
  () => B('OPTIONS /i HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n'),
  () => B('GET /r/tp2?u=https%3A%2F%2Fgood.com%2F HTTP/1.1\r\nHost: x\r\n\r\n'),
];

const mutations: Array<[string, (r: () => number, seed: Buffer) => Buffer]> = [
  ['flip bytes', (r, s) => { const b = Buffer.from(s); for (let i = 0; i < 1 + r() * 8; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256); return b; }],
  ['truncate', (r, s) => s.subarray(0, Math.floor(r() * s.length))],
  ['insert random bytes', (r, s) => { const at = Math.floor(r() * s.length); return Buffer.concat([s.subarray(0, at), bytes(r, 1 + Math.floor(r() * 64)), s.subarray(at)]); }],
  ['bad method or version', (r, s) => B(s.toString('latin1').replace(/^\S+/, pick(r, ['G ET', '', 'GET\0', 'X'.repeat(300), 'get', 'PRI', 'CONNECT'])).replace('HTTP/1.1', pick(r, ['HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.', 'http/1.1', ''])))],
  ['huge query string', (r, s) => B(s.toString('latin1').replace(/^(\S+ \S+?)(\?| )/, (_m, a: string, sep: string) => `${a}?q=${'%'.repeat(1 + Math.floor(r() * 3))}${'x'.repeat(Math.floor(r() * 60_000))}${sep === '?' ? '&' : ' '}`))],
  ['many headers', (r, s) => B(s.toString('latin1').replace('\r\n', `\r\n${Array.from({ length: Math.floor(r() * 4000) }, (_, i) => `X-F${i}: ${'v'.repeat(Math.floor(r() * 20))}\r\n`).join('')}`))],
  ['header syntax', (r, s) => B(s.toString('latin1').replace('\r\nHost:', pick(r, ['\r\nHost :', '\r\n Host:', '\r\nHost', '\r\nHo\0st:', '\r\n: x\r\nHost:', '\r\nX-Folded: a\r\n continued\r\nHost:', '\r\nContent-Length: 5\r\nContent-Length: 7\r\nHost:', '\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nHost:'])))],
  ['invalid UTF-8', (r, s) => { const at = Math.floor(r() * s.length); return Buffer.concat([s.subarray(0, at), Buffer.from(pick(r, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80]])), s.subarray(at)]); }],
  ['bad chunk sizes', (r) => B(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${pick(r, ['ZZ', '-1', 'FFFFFFFFFFFFFFFF', '0x10', '1;ext=1', '', '5 '])}\r\nhello\r\n${pick(r, ['0\r\n\r\n', '0\r\n', 'x\r\n', '0\r\nTrailer: x\r\n\r\n'])}`)],
  ['lying Content-Length', (r) => B(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Length: ${pick(r, ['-1', '99999999999999999999', '1e3', ' 12', '12abc', '3000000'])}\r\n\r\n${'a'.repeat(Math.floor(r() * 100))}`)],
];

interface Outcome { answered: boolean; closed: boolean; ms: number }

/** Sends `data`, half-closes, and waits for an answer and the close (at most `limitMs`). */
function fire(port: number, data: Buffer, limitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let answered = false;
    const done = (closed: boolean): void => { clearTimeout(timer); sock.destroy(); resolve({ answered, closed, ms: Date.now() - t0 }); };
    const timer = setTimeout(() => done(false), limitMs);
    sock.on('data', (d: Buffer) => { if (d.subarray(0, 5).toString('latin1') === 'HTTP/') answered = true; });
    sock.on('close', () => done(true));
    sock.on('error', () => undefined);
    sock.on('connect', () => { sock.write(data); sock.end(); });
  });
}

/**
 * Writes `data` in pieces cut at `cuts` (a few ms apart) and counts complete answers until
 * `expect` are in or `limitMs` passes; the statuses in order.
 */
function splitAndCount(port: number, data: Buffer, cuts: number[], expect: number, limitMs: number): Promise<number[]> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    const statuses = (): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    const done = (): void => { clearTimeout(timer); sock.destroy(); resolve(statuses()); };
    const timer = setTimeout(done, limitMs);
    sock.on('data', (d: Buffer) => { text += d.toString('latin1'); if (statuses().length >= expect && /\r\n\r\n[^]*$/.test(text)) setTimeout(done, 20); });
    sock.on('close', done);
    sock.on('error', () => undefined);
    sock.on('connect', async () => {
      let from = 0;
      for (const at of [...cuts, data.length]) {
        if (sock.destroyed) return;
        sock.write(data.subarray(from, at));
        from = at;
        await new Promise((r) => setTimeout(r, 3));
      }
    });
  });
}

function walIsClean(walDir: string): { segments: number; problems: string[] } {
  const problems: string[] = [];
  const names = readdirSync(walDir).filter((n) => SEGMENT_NAME.test(n));
  for (const name of names) {
    const scan = scanSegmentFile(join(walDir, name));
    if (typeof scan === 'string') problems.push(`${name}: ${scan}`);
    else if (scan.problem !== null) problems.push(`${name}: ${scan.problem}`);
  }
  return { segments: names.length, problems };
}

t.test(`${INPUTS} fuzzed requests, slowloris, a connection flood`, async (t) => {
  const maxConnections = 200;
  const s = await server({ ship: { enabled: false }, collector: { networking: { maxConnections, bodyReadTimeout: '1 second', responseHeaderTimeout: '5 seconds' } } });
  const r = prng(SEED);
  const byMutation = new Map<string, { n: number; answered: number; closed: number }>();
  let slowest = 0;
  let stuck = 0;
  // 1. Fuzzed inputs, 8 at a time. Each must be answered or closed within 3 s (bodyReadTimeout
  // 1 s plus the sweep); the process must be alive and /health answer every 250 inputs.
  for (let i = 0; i < INPUTS; i += 8) {
    const batch = Array.from({ length: Math.min(8, INPUTS - i) }, () => {
      const [name, mutate] = pick(r, mutations);
      return { name, data: mutate(r, pick(r, valid)(r)) };
    });
    const outs = await Promise.all(batch.map((b) => fire(s.port, b.data, 3000)));
    outs.forEach((o, k) => {
      const m = byMutation.get(batch[k]!.name) ?? { n: 0, answered: 0, closed: 0 };
      m.n++;
      if (o.answered) m.answered++;
      if (o.closed) m.closed++;
      byMutation.set(batch[k]!.name, m);
      slowest = Math.max(slowest, o.ms);
      if (!o.closed) stuck++;
    });
    if (i % 256 === 0) {
      t.equal(s.proc.exitCode, null, `alive after ${i} inputs`);
      t.equal((await request(s.port, { path: '/health' })).status, 200, `healthy after ${i} inputs`);
    }
  }
  t.equal(stuck, 0, `every fuzzed connection answered or closed within 3 s (slowest ${slowest} ms)`);
  for (const [name, m] of byMutation) t.ok(m.n > 0, `${name}: ${m.n} inputs, ${m.answered} answered, ${m.closed} closed`);

  // 1b. Valid requests, pipelined 1-4 on one connection and split across writes at random
  // points: every one answered, in order, exactly as when it comes alone in one write.
  const alone: number[] = [];
  for (const gen of valid) alone.push((await splitAndCount(s.port, gen(r), [], 1, 3000))[0] ?? 0);
  let splitInputs = 0;
  let splitWrong = 0;
  for (let i = 0; i < SPLIT_INPUTS; i += 8) {
    const outs = await Promise.all(Array.from({ length: 8 }, () => {
      const picks = Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * valid.length));
      const data = Buffer.concat(picks.map((p) => valid[p]!(r)));
      const cuts = Array.from({ length: 1 + Math.floor(r() * 6) }, () => 1 + Math.floor(r() * (data.length - 1))).sort((a, b) => a - b);
      return splitAndCount(s.port, data, cuts, picks.length, 3000).then((st) => ({ expected: picks.map((p) => alone[p]!), st }));
    }));
    for (const o of outs) {
      splitInputs++;
      if (JSON.stringify(o.st) !== JSON.stringify(o.expected)) {
        splitWrong++;
        if (splitWrong <= 3) t.comment(`wrong: expected ${JSON.stringify(o.expected)}, answers ${JSON.stringify(o.st)}`);
      }
    }
  }
  t.equal(splitWrong, 0, `${splitInputs} split and pipelined inputs: every request answered in order as it is alone (${JSON.stringify(alone)})`);

  // 2. Slowloris: 100 connections trickling a header byte every 200 ms; trackers still get 200s.
  const slow: net.Socket[] = [];
  for (let i = 0; i < 100; i++) {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write('GET /i?e=pv HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    slow.push(sock);
  }
  const trickle = setInterval(() => { for (const sock of slow) if (!sock.destroyed) sock.write('a'); }, 200);
  const during: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = Date.now();
    const res = await request(s.port, { path: `/i?e=pv&eid=during-slowloris-${i}` });
    t.equal(res.status, 200);
    during.push(Date.now() - t0);
  }
  clearInterval(trickle);
  for (const sock of slow) sock.destroy();
  t.ok(Math.max(...during) < 1000, `trackers served during slowloris (slowest ${Math.max(...during)} ms)`);

  // 3. Connection flood: maxConnections idle connections, then more; the extras are closed at once,
  // and once the flood ends trackers are served again.
  const flood: net.Socket[] = [];
  await Promise.all(Array.from({ length: maxConnections + 50 }, () => new Promise<void>((resolve) => {
    const sock = net.connect(s.port, '127.0.0.1', () => resolve());
    sock.on('error', () => resolve());
    flood.push(sock);
  })));
  await new Promise((res) => setTimeout(res, 300));
  // At the cap the longest-idle connection is evicted for each new one: 50 of the flood go.
  const refused = flood.filter((x) => x.destroyed || x.readyState !== 'open').length;
  t.ok(refused >= 40, `connections beyond maxConnections closed (${refused} of ${flood.length})`);
  for (const sock of flood) sock.destroy();
  await new Promise((res) => setTimeout(res, 300));
  t.equal((await request(s.port, { path: '/i?e=pv&eid=after-flood' })).status, 200, 'served after the flood');

  // 4. The WAL is valid and the process never crashed.
  const wal = walIsClean(s.walDir);
  t.same(wal.problems, [], `${wal.segments} WAL segment(s) scan clean`);
  t.equal(s.proc.exitCode, null, 'no crash');
  const inputs = INPUTS + slow.length + flood.length;
  recordScenario({
    id: 'fuzz-http', group: 'fuzz', title: `HTTP fuzzer (seed ${SEED}): ${INPUTS} mutated requests, ${splitInputs} valid ones split at random points and pipelined, 100 slowloris clients, a flood of ${flood.length} connections (max ${maxConnections})`,
    inputs: inputs + splitInputs, crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid),
    notes: `${[...byMutation].map(([n, m]) => `${n} ${m.n}`).join(', ')}; slowest answer or close ${slowest} ms; WAL ${wal.segments} segment(s) clean`,
  }, stuck === 0 && splitWrong === 0 && wal.problems.length === 0 && Math.max(...during) < 1000);
});
