// HOCON read faithfully (issue 20, item 11): includes relative to the file, `+= ${?UNSET}` adds
// nothing, SSC 2.x's top-level akka block is ignored with a note, errors as file:line:col without
// the parser's internals, every schema problem at once, and a warning for unit-less durations.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config/load';

function files(spec: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hocon-'));
  for (const [name, text] of Object.entries(spec)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function problem(file: string): Promise<string> {
  try {
    await loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '(no error)';
}

t.test('includes are resolved relative to the including file', async (t) => {
  const dir = files({
    'main.hocon': 'include "parts/collector.hocon"\ninclude required(file("parts/wal.hocon"))\ninclude "absent.hocon"\n',
    'parts/collector.hocon': 'collector { port = 9123, cookie { name = "sp2" } }\ninclude "deeper.hocon"\n',
    'parts/deeper.hocon': '{ s3 { bucket = "from-deeper" } }\n',
    'parts/wal.hocon': 'wal { maxRecordBytes = 500 KiB }\n',
  });
  const { config, notes } = await loadConfig(join(dir, 'main.hocon'));
  t.equal(config.collector.port, 9123, 'include "file"');
  t.equal(config.collector.cookie.name, 'sp2');
  t.equal(config.s3.bucket, 'from-deeper', 'nested include, relative to its own file, braces allowed');
  t.equal(config.wal.maxRecordBytes, 500 * 1024, 'include required(file(...))');
  t.ok(notes.some((n) => /absent\.hocon not found/.test(n)), 'a missing optional include is noted');
  const missing = files({ 'm.hocon': 'include required(file("nope.hocon"))\n' });
  t.match(await problem(join(missing, 'm.hocon')), /m\.hocon:1: required include nope\.hocon not found/, 'a missing required include is an error with its place');
  const cycle = files({ 'a.hocon': 'include "b.hocon"\n', 'b.hocon': 'include "a.hocon"\n' });
  t.match(await problem(join(cycle, 'a.hocon')), /include cycle/);
});

t.test('+= ${?VAR}: adds the variable when set, nothing when unset', async (t) => {
  delete process.env['SLUICE_TEST_UNSET_DOMAIN'];
  process.env['SLUICE_TEST_SET_DOMAIN'] = 'b.example';
  const dir = files({ 'c.hocon': 'collector.cookie.domains = ["a.example"]\ncollector.cookie.domains += ${?SLUICE_TEST_UNSET_DOMAIN}\ncollector.cookie.domains += ${?SLUICE_TEST_SET_DOMAIN}\n' });
  const { config } = await loadConfig(join(dir, 'c.hocon'));
  t.same(config.collector.cookie.domains, ['a.example', 'b.example']);
});

t.test('SSC 2.x files: the top-level akka block is ignored with a note', async (t) => {
  const dir = files({ 'ssc2.hocon': 'collector { port = 8080 }\nakka {\n  loglevel = WARNING\n  http.server { remote-address-header = on }\n}\n' });
  const { config, notes } = await loadConfig(join(dir, 'ssc2.hocon'));
  t.equal(config.collector.port, 8080);
  t.ok(notes.some((n) => /^akka is ignored/.test(n)), 'noted');
});

t.test('errors: file:line:col, no parser internals, every schema problem at once', async (t) => {
  const dir = files({ 'bad.hocon': 'collector {\n  port = 8080\n  cookie {\n    name = "x"\n' });
  const msg = await problem(join(dir, 'bad.hocon'));
  t.match(msg, /bad\.hocon:\d+:\d+: /, `a place: ${msg}`);
  t.notMatch(msg, /ObjectNode|Source:|@[0-9a-f]{4}/, 'no parser internals');
  const inc = files({ 'top.hocon': 'include "part.hocon"\n', 'part.hocon': 'wal {\n  dir = "x"\n  nope = = 1\n}\n' });
  t.match(await problem(join(inc, 'top.hocon')), /part\.hocon:3:\d+: /, 'the place inside the included file');
  const many = files({ 'm.hocon': 'collector { port = -1, nosuch = 1 }\nwal { segmentBytes = "lots" }\n' });
  const all = await problem(join(many, 'm.hocon'));
  t.match(all, /collector\.port/, 'the port');
  t.match(all, /collector\.nosuch: unknown key/, 'the unknown key');
  t.match(all, /wal\.segmentBytes/, 'the size');
  t.match(all, /\(3 problems\)/, 'all three at once');
});

t.test('a duration without a unit is read as milliseconds, with a warning', async (t) => {
  const dir = files({ 'd.hocon': 'collector.cookie.expiration = 365\ncollector.networking.idleTimeout = "610 seconds"\n' });
  const { config, notes } = await loadConfig(join(dir, 'd.hocon'));
  t.equal(config.collector.cookie.expiration, 365);
  t.ok(notes.some((n) => /collector\.cookie\.expiration = 365 has no unit/.test(n)), 'warned');
  t.notOk(notes.some((n) => /idleTimeout/.test(n)), 'no warning with a unit');
});
