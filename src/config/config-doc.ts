/**
 * docs/configuration.md, generated from SCHEMA: every setting with its type, default, bounds,
 * environment override and meaning. `node scripts/gen-config-doc.js` writes it; a test fails
 * when the committed file and the schema disagree.
 */
import { minSegmentBytes } from './load';
import { SCHEMA, type Leaf, type Node, type Section } from './schema';

type Unit = readonly [factor: number, one: string, many: string];
const UNITS_MS: readonly Unit[] = [[86_400_000, 'day', 'days'], [3_600_000, 'hour', 'hours'], [60_000, 'minute', 'minutes'], [1000, 'second', 'seconds'], [1, 'ms', 'ms']];
const UNITS_B: readonly Unit[] = [[1024 ** 3, 'GiB', 'GiB'], [1024 ** 2, 'MiB', 'MiB'], [1024, 'KiB', 'KiB'], [1, 'byte', 'bytes']];

/** The value in the largest unit that divides it exactly. */
function withUnit(n: number, units: readonly Unit[]): string {
  for (const [f, one, many] of units) {
    if (n !== 0 && n % f === 0) return `${n / f} ${n / f === 1 ? one : many}`;
  }
  return `${n} ${units[units.length - 1]![2]}`;
}

function code(s: string): string {
  return `\`${s.replace(/`/g, '\\`')}\``;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeOf(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'int': return `integer, ${leaf.min}–${leaf.max}`;
    case 'size': return `size, ${withUnit(leaf.min, UNITS_B)}–${withUnit(leaf.max, UNITS_B)}`;
    case 'duration': return `duration, ${withUnit(leaf.min, UNITS_MS)}–${withUnit(leaf.max, UNITS_MS)}`;
    case 'bool': return 'boolean';
    case 'string': return leaf.pattern === undefined ? 'string' : `string matching ${code(leaf.pattern.source)}`;
    case 'enum': return `one of ${leaf.values.map(code).join(', ')}`;
    case 'stringList': return `list of strings, at most ${leaf.maxItems}`;
    case 'stringMap': return `object of strings, at most ${leaf.maxItems} keys`;
    case 'ignored': return 'accepted, ignored';
    case 'refusedIfEnabled': return `refused when ${code(leaf.flag)} is true`;
  }
}

function defaultOf(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'int': return code(String(leaf.default));
    case 'size': return code(withUnit(leaf.default, UNITS_B));
    case 'duration': return code(withUnit(leaf.default, UNITS_MS));
    case 'bool': return code(String(leaf.default));
    case 'string': return leaf.default === null ? 'unset' : code(JSON.stringify(leaf.default));
    case 'enum': return code(leaf.default);
    case 'stringList': return code(JSON.stringify(leaf.default));
    case 'stringMap': return code(JSON.stringify(leaf.default));
    case 'ignored':
    case 'refusedIfEnabled': return '–';
  }
}

function envOf(leaf: Leaf): string {
  return 'env' in leaf && leaf.env !== undefined ? code(leaf.env) : '';
}

/** Bounds that other settings impose beyond a key's own range (the validator's cross-checks). */
function crossBound(key: string): string {
  if (key !== 'wal.segmentBytes') return '';
  const c = SCHEMA.fields.collector.fields.networking.fields;
  const least = minSegmentBytes(c.dropPayloadSize.default, SCHEMA.fields.wal.fields.maxRecordBytes.default);
  return ` At least ${withUnit(least, UNITS_B)} (${least} bytes) with the default networking.dropPayloadSize and wal.maxRecordBytes: twice what one request can produce.`;
}

function renderSection(path: string, sec: Section, out: string[], depth: number): void {
  const leaves: Array<[string, Leaf]> = [];
  const subs: Array<[string, Section]> = [];
  for (const [k, n] of Object.entries(sec.fields) as Array<[string, Node]>) {
    if (n.kind === 'section') subs.push([k, n]); else leaves.push([k, n]);
  }
  out.push(`${'#'.repeat(Math.min(depth, 4))} ${code(path)}`, '', `${sec.doc}.`, '');
  if (leaves.length > 0) {
    out.push('| Key | Type | Default | Environment | Meaning |', '|---|---|---|---|---|');
    for (const [k, leaf] of leaves) {
      out.push(`| ${code(`${path}.${k}`)} | ${cell(typeOf(leaf))} | ${cell(defaultOf(leaf))} | ${envOf(leaf)} | ${cell(leaf.doc + wasNote(leaf) + crossBound(`${path}.${k}`))} |`);
    }
    out.push('');
  }
  for (const [k, s] of subs) renderSection(`${path}.${k}`, s, out, depth + 1);
}

/** Environment variables read outside the schema (logging, and fault injection for tests). */
export const OTHER_ENVIRONMENT: ReadonlyArray<[name: string, meaning: string]> = [
  ['SLUICE_LOG_LEVEL', 'pino log level: `fatal`, `error`, `warn`, `info` (default), `debug`, `trace`. Logs are JSON lines on stdout; requests are counted in the metrics, never logged one by one.'],
  ['SLUICE_DEBUG', '`1`: the tools print the stack of an unexpected error after its one-line message.'],
  ['SLUICE_FAULT_SYNC_DELAY_MS', 'Tests only: delay every WAL sync by this many ms (slow-disk fault).'],
  ['SLUICE_FAULT_LOOP_BLOCK_MS', 'Tests only: block the event loop this long every 1.5 s (stall fault).'],
  ['SLUICE_FAULT_KILL_AFTER_SHIP', 'Tests only: `1` kills the process with SIGKILL after an upload is confirmed and before the WAL releases the segment (crash window fault).'],
];

export function renderConfigDoc(): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `node scripts/gen-config-doc.js`; do not edit by hand. test/docs.test.ts fails when this file and the schema disagree. -->',
    '',
    'Sluice reads one HOCON or JSON file (`node dist/server --config FILE`). The collector\'s behaviour keys keep the Scala Stream Collector 3.x names inside `collector { }`, so a migrating SSC block works unchanged; Sluice\'s own sections `wal`, `ship`, `s3` and `admin` sit beside it at the top level. An environment variable, where a key has one, overrides the file.',
    '',
    'Values: sizes take `bytes`, `KiB`, `MiB`, `GiB` (and `KB`, `MB`, `GB`; a bare number is bytes); durations take `ms`, `seconds`, `minutes`, `hours`, `days` (a bare number is milliseconds, as in HOCON). A value out of its range, an unknown key, or a hostile value (a header injection in a cookie name, a path where a host belongs) stops the start with exit code 2 and a message naming the key. Keys marked "accepted, ignored" are SSC keys with no effect in Sluice: the reason is logged at start. Keys marked "refused when … is true" are SSC features Sluice does not have: enabling them is an error rather than a silent no-op.',
    '',
    'Every queue, buffer and retry has a bound here; what happens when it is reached is in the Meaning column (usually: requests get 503 and `/health` says why, so the load balancer moves traffic away and no acknowledged event is lost).',
    '',
  ];
  const topLeaves = (Object.entries(SCHEMA.fields) as Array<[string, Node]>).filter(([, n]) => n.kind !== 'section') as Array<[string, Leaf]>;
  if (topLeaves.length > 0) {
    out.push('## Top level', '', 'Blocks beside the sections below.', '', '| Key | Type | Default | Environment | Meaning |', '|---|---|---|---|---|');
    for (const [k, leaf] of topLeaves) out.push(`| ${code(k)} | ${cell(typeOf(leaf))} | ${cell(defaultOf(leaf))} | ${envOf(leaf)} | ${cell(leaf.doc)} |`);
    out.push('');
  }
  for (const [k, n] of Object.entries(SCHEMA.fields) as Array<[string, Node]>) {
    if (n.kind === 'section') renderSection(k, n, out, 2);
  }
  out.push('## Other environment variables', '', 'AWS credentials and region come from the standard AWS variables and files (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, `AWS_REGION`, instance roles).', '', '| Variable | Meaning |', '|---|---|');
  for (const [name, meaning] of OTHER_ENVIRONMENT) out.push(`| ${code(name)} | ${cell(meaning)} |`);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** The old name of a key renamed to carry its unit: still read, with a note at start. */
function wasNote(leaf: Leaf): string {
  return 'was' in leaf && leaf.was !== undefined ? ` Formerly \`${leaf.was}\`: still read, with a deprecation note.` : '';
}
