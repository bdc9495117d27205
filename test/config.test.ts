// Configuration: an SSC 3.x `collector { }` block works unchanged (55), SLUICE_* overrides,
// and hostile or unsupported values are refused with an error naming the key.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromObject, parseConfigText } from '../src/config/load';
import { SCHEMA } from '../src/config/schema';
import { header, request } from './helpers/http';
import { ROOT, startServer } from './helpers/server';

const SSC_BLOCK = `
# An SSC 3.x kinesis config, as a migrating user has it.
collector {
  interface = "0.0.0.0"
  port = 9999
  paths {
    "/com.acme/track" = "/com.snowplowanalytics.snowplow/tp2"
  }
  p3p { policyRef = "/w3c/p3p.xml", CP = "NOI DSP COR NID PSA OUR IND COM NAV STA" }
  crossDomain { enabled = false, domains = [ "*" ], secure = true }
  cookie {
    enabled = true
    expiration = 365 days
    name = sp
    domains = [ "acme.com" ]
    fallbackDomain = "acme.com"
    secure = true
    httpOnly = true
    sameSite = "None"
  }
  doNotTrackCookie { enabled = false, name = "", value = "" }
  cookieBounce { enabled = false, name = "n3pc", fallbackNetworkUserId = "00000000-0000-4000-A000-000000000000" }
  redirectMacro { enabled = false }
  enableDefaultRedirect = false
  redirectDomains = []
  rootResponse { enabled = false, statusCode = 302, headers = {}, body = "" }
  cors { accessControlMaxAge = 60 minutes }
  ssl { enable = false, redirect = false, port = 443 }
  hsts { enable = false, maxAge = 365 days }
  networking { maxConnections = 1024, idleTimeout = 610 seconds, responseHeaderTimeout = 30 seconds, maxPayloadSize = 1048576, dropPayloadSize = 2097152 }
  streams {
    good { name = "good", region = eu-central-1, buffer { byteLimit = 3145728, recordLimit = 500, timeLimit = 5000 } }
    bad { name = "bad" }
  }
  telemetry { disable = false, interval = 60 minutes }
  monitoring { metrics { statsd { enabled = false } } }
  license { accept = true }
  preTerminationPeriod = 10 seconds
}
`;

t.test('an SSC 3.x block loads unchanged (55)', async (t) => {
  const { config, notes } = configFromObject(await parseConfigText(SSC_BLOCK, 'ssc.hocon'));
  t.equal(config.collector.port, 9999);
  t.equal(config.collector.cookie.expiration, 365 * 86_400_000, 'HOCON duration in ms');
  t.same(config.collector.cookie.domains, ['acme.com']);
  t.equal(config.collector.cors.accessControlMaxAge, 3_600_000);
  t.equal(config.collector.networking.idleTimeout, 610_000);
  t.same(config.collector.paths, { '/com.acme/track': '/com.snowplowanalytics.snowplow/tp2' });
  t.equal(config.collector.streams.good.name, 'good', 'the streams block configures the stream sink');
  t.equal(config.collector.streams.good.region, 'eu-central-1');
  t.equal(config.collector.streams.good.buffer.recordLimit, 500);
  t.equal(config.collector.streams.bad.name, 'bad');
  t.ok(notes.some((n) => n.startsWith('collector.streams.good.buffer.timeLimit is ignored')), 'SSC\'s in-memory buffer time noted as ignored');
  t.ok(notes.some((n) => n.startsWith('collector.telemetry is ignored')));
  const json = configFromObject(JSON.parse(JSON.stringify({ collector: { port: 9999, cookie: { expiration: '365 days', domains: ['acme.com'] } } })) as Record<string, unknown>);
  t.equal(json.config.collector.cookie.expiration, config.collector.cookie.expiration, 'JSON and HOCON give the same result');
  t.equal(configFromObject({}).config.collector.cookie.name, 'sp', 'reference defaults');
  t.equal(configFromObject({}).config.collector.networking.dropPayloadSize, 2_097_152);
});

t.test('the schema and the typed defaults agree', async (t) => {
  const defaults = configFromObject({}).config as unknown as Record<string, Record<string, unknown>>;
  const walk = (prefix: string, fields: Record<string, { kind: string; fields?: Record<string, unknown> }>, obj: Record<string, unknown>): void => {
    for (const [k, node] of Object.entries(fields)) {
      if (node.kind === 'ignored' || node.kind === 'refusedIfEnabled') continue;
      t.ok(k in obj, `${prefix}${k} present in the loaded config`);
      if (node.kind === 'section') walk(`${prefix}${k}.`, node.fields as Record<string, { kind: string }>, obj[k] as Record<string, unknown>);
    }
  };
  walk('', SCHEMA.fields as unknown as Record<string, { kind: string; fields?: Record<string, unknown> }>, defaults);
});

t.test('refusals name the key', async (t) => {
  const refuse = (raw: Record<string, unknown>, key: RegExp): void => {
    t.throws(() => configFromObject(raw), { name: 'ConfigError', message: key }, JSON.stringify(raw));
  };
  refuse({ collector: { prot: 80 } }, /^config collector\.prot: unknown key/);
  refuse({ collector: { port: 70000 } }, /^config collector\.port: 70000 is outside/);
  refuse({ collector: { port: 'eighty' } }, /^config collector\.port: expected an integer/);
  refuse({ collector: { cookie: { name: 'sp; Domain=evil' } } }, /^config collector\.cookie\.name:/);
  refuse({ collector: { cookie: { fallbackDomain: 'a.com\r\nX: y' } } }, /^config collector\.cookie\.fallbackDomain:/);
  refuse({ collector: { cookie: { sameSite: 'Sometimes' } } }, /^config collector\.cookie\.sameSite: expected one of None, Strict, Lax/);
  refuse({ collector: { cookie: { expiration: '365 fortnights' } } }, /^config collector\.cookie\.expiration: unknown unit/);
  refuse({ collector: { ssl: { enable: true } } }, /^config collector\.ssl\.enable: not supported/);
  refuse({ collector: { redirectMacro: { enabled: true } } }, /^config collector\.redirectMacro\.enabled: not supported/);
  refuse({ collector: { compression: { enabled: true } } }, /^config collector\.compression\.enabled: not supported/);
  refuse({ collector: { paths: { '/a': '/com.snowplowanalytics.snowplow/tp2' } } }, /^config collector\.paths\."\/a": a custom path must have exactly two segments/);
  refuse({ collector: { paths: { '/a/b': '/evil/x' } } }, /^config collector\.paths\."\/a\/b": must map to one of/);
  refuse({ collector: { doNotTrackCookie: { enabled: true, name: 'x', value: '(' } } }, /^config collector\.doNotTrackCookie\.value: not a valid regular expression/);
  refuse({ collector: { rootResponse: { headers: { 'Bad Name': 'x' } } } }, /^config collector\.rootResponse\.headers\."Bad Name"/);
  refuse({ collector: { networking: { dropPayloadSize: 1000, maxPayloadSize: 2000 } } }, /^config collector\.networking\.dropPayloadSize: must be at least maxPayloadSize/);
  refuse({ collector: { redirectDomains: ['evil.com/path'] } }, /^config collector\.redirectDomains:/);
  refuse({ wal: { durability: 'maybe' } }, /^config wal\.durability: expected one of fsync, none/);
});

t.test('environment overrides', async (t) => {
  const saved = { ...process.env };
  t.teardown(() => { process.env = saved; });
  process.env['SLUICE_PORT'] = '8123';
  process.env['SLUICE_WAL_DIR'] = '/tmp/x-wal';
  const { config } = configFromObject({ collector: { port: 9999 } });
  t.equal(config.collector.port, 8123, 'SLUICE_PORT beats the file');
  t.equal(config.wal.dir, '/tmp/x-wal');
  process.env['SLUICE_PORT'] = 'abc';
  t.throws(() => configFromObject({}), { message: /^config collector\.port \(from SLUICE_PORT\): expected an integer/ });
});

t.test('the server with a HOCON file, and CLI errors', async (t) => {
  const s = await startServer({ config: SSC_BLOCK.replace('port = 9999', 'port = 1').replace('domains = [ "acme.com" ]', 'domains = [ "acme.com" ]\n    clientCookieName = "sp_c"'), env: { SLUICE_KINESIS_ENDPOINT: 'http://127.0.0.1:9' } });
  t.teardown(() => s.stop());
  const r = await request(s.port, { path: '/i', headers: [['Origin', 'https://www.acme.com']] });
  t.equal(r.status, 200, 'SLUICE_PORT=0 overrides the file port');
  t.match(header(r, 'Set-Cookie')!, /; Domain=acme\.com; /, 'cookie block honoured');
  t.match(s.output(), /collector\.telemetry is ignored/, 'ignored keys are logged');
  t.match(s.output(), /"msg":"stream sink started"/, 'the streams block turns the stream sink on (its stream is not reachable here: events wait in the WAL)');

  const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'collector { port = 8080, cookie { sameSite = Sometimes } }');
  const run = (args: string[]): { status: number | null; stderr: string; stdout: string } => {
    const p = spawnSync(process.execPath, [join(ROOT, 'dist', 'server.js'), ...args], { encoding: 'utf8', timeout: 10_000 });
    return { status: p.status, stderr: p.stderr, stdout: p.stdout };
  };
  const badRun = run(['--config', bad]);
  t.equal(badRun.status, 2, 'a bad value exits 2');
  t.match(badRun.stderr, /^sluice: config collector\.cookie\.sameSite: expected one of None, Strict, Lax/);
  const missing = run(['--config', join(dir, 'nope.conf')]);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /nope\.conf: cannot read: ENOENT/);
  writeFileSync(bad, 'collector { port = ');
  t.match(run(['--config', bad]).stderr, /bad\.conf:1:\d+: /);
  const help = run(['--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /Usage: node dist\/server \[--config FILE\]/);
  t.equal(run(['--bogus']).status, 2, 'unknown argument exits 2');
  const cli = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'server', '--help'], { encoding: 'utf8' });
  t.match(cli.stdout, /Usage: node dist\/server/, 'sluice server --help');
});

t.test('keys renamed to carry their unit: the old names still load, with a note, and both at once are refused', async (t) => {
  const notes: string[] = [];
  const { config } = configFromObject({ wal: { maxSegmentAge: '30 s' }, ship: { maxLag: '2 minutes', readChunk: '128 KiB' }, admin: { maxEventLoopDelay: '2 s' } }, notes);
  t.equal(config.wal.maxSegmentAgeMs, 30_000, 'wal.maxSegmentAge is read as wal.maxSegmentAgeMs');
  t.equal(config.ship.maxLagMs, 120_000);
  t.equal(config.ship.readChunkBytes, 128 * 1024);
  t.equal(config.admin.maxEventLoopDelayMs, 2000);
  t.ok(notes.includes('wal.maxSegmentAge is deprecated: it is read as wal.maxSegmentAgeMs (the same value; rename it)'), 'a deprecation note names both');
  t.equal(notes.filter((n) => n.includes('is deprecated')).length, 4, 'one note per old name');
  t.throws(() => configFromObject({ ship: { maxLag: '1 minute', maxLagMs: '2 minutes' } }), /ship\.maxLag: the old name of ship\.maxLagMs: set one of the two/);
  t.throws(() => configFromObject({ ship: { maxLagg: '1 minute' } }), /ship\.maxLagg: unknown key/, 'other unknown keys are still refused');
});
