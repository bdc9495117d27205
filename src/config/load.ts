import { ERROR_CODES, SluiceError } from './errors';
import { type HoconSource, HoconSourceError, placeOf, readHoconSource } from './hocon-source';
import { SCHEMA, type Leaf, type Node, type Section, type ValueOf } from './schema';
import type { SluiceConfig } from './types';
import { parseDurationMs, parseSizeBytes } from './units';
import { validateKeyTemplate } from './key-template';
import { normalizeStreamsBlock, streamSinkEnabled } from './streams-block';

/** A configuration problem, always naming the offending key. */
export class ConfigError extends SluiceError {
  constructor(readonly key: string, message: string) {
    super(ERROR_CODES.config, `config ${key}: ${message}`);
  }
}

/** A file that does not parse: the message is `file:line:col: what`. */
export class ConfigSyntaxError extends ConfigError {
  constructor(message: string) {
    super('syntax', message);
    this.message = message;
  }
}

/** Every problem of a file at once: the first one's message, then the others, a line each. */
export class ConfigErrors extends ConfigError {
  constructor(readonly problems: readonly ConfigError[]) {
    super(problems[0]!.key, '');
    this.message = problems.length === 1 ? problems[0]!.message : `${problems[0]!.message}\n${problems.slice(1).map((p) => p.message).join('\n')}\n(${problems.length} problems)`;
  }
}

export interface LoadedConfig {
  config: SluiceConfig;
  /** Keys accepted but without effect in Sluice, with the reason (logged at start). */
  notes: string[];
}

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The parser's message without its internals, with the place: `file:line:col: message`. */
function parseProblem(message: string, src: HoconSource | null, origin: string): string {
  const m = /^(.*?)\s*\(Source: .*?Token: \{ value: "(.*)", line: (\d+), col: (\d+) \}\)\s*$/s.exec(message);
  if (m === null) return `${origin}: ${message.replace(/\s*\(Source: [^)]*\)/, '')}`;
  const place = src === null ? `${origin}:${m[3]}:${m[4]}` : placeOf(src, Number(m[3]), Number(m[4]));
  return `${place}: ${m[1]} (at ${JSON.stringify(m[2])})`;
}

/** Parses HOCON (a superset of JSON) text into a plain object. */
export async function parseConfigText(text: string, origin: string, src: HoconSource | null = null): Promise<Raw> {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (!isObject(parsed)) throw new ConfigError(origin, 'the top level must be an object');
      return parsed;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      // Not JSON: HOCON allows a braced root object too; fall through.
    }
  }
  const hocon = await import('@pushcorn/hocon-parser');
  try {
    const parsed: unknown = await hocon.parse({ text, strict: true });
    if (!isObject(parsed)) throw new ConfigError(origin, 'the top level must be an object');
    return parsed;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigSyntaxError(parseProblem((e as Error).message, src, origin));
  }
}

function leafValue(key: string, leaf: Leaf, value: unknown): unknown {
  try {
    switch (leaf.kind) {
      case 'int': {
        const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`expected an integer, got ${JSON.stringify(value)}`);
        return checkRange(n, leaf.min, leaf.max);
      }
      case 'size':
        return checkRange(parseSizeBytes(value), leaf.min, leaf.max);
      case 'duration':
        return checkRange(parseDurationMs(value), leaf.min, leaf.max);
      case 'bool':
        if (typeof value === 'boolean') return value;
        if (value === 'true' || value === 'yes' || value === 'on') return true;
        if (value === 'false' || value === 'no' || value === 'off') return false;
        throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
      case 'string':
        if (value === null) return null;
        if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
        if (leaf.pattern !== undefined && !leaf.pattern.test(String(value))) throw new Error(`${JSON.stringify(value)} is not allowed (must match ${leaf.pattern.source})`);
        return String(value);
      case 'enum': {
        const found = leaf.values.find((v) => v.toLowerCase() === String(value).toLowerCase());
        if (found === undefined) throw new Error(`expected one of ${leaf.values.join(', ')}, got ${JSON.stringify(value)}`);
        return found;
      }
      case 'stringList': {
        // From the environment: comma-separated.
        if (typeof value === 'string') value = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
        if (!Array.isArray(value)) throw new Error(`expected a list of strings, got ${JSON.stringify(value)}`);
        if (value.length > leaf.maxItems) throw new Error(`at most ${leaf.maxItems} entries, got ${value.length}`);
        return value.map((item) => {
          if (typeof item !== 'string') throw new Error(`expected strings, got ${JSON.stringify(item)}`);
          if (leaf.itemPattern !== undefined && !leaf.itemPattern.test(item)) throw new Error(`${JSON.stringify(item)} is not allowed (must match ${leaf.itemPattern.source})`);
          return item;
        });
      }
      case 'stringMap': {
        if (!isObject(value)) throw new Error(`expected an object of strings, got ${JSON.stringify(value)}`);
        const out: Record<string, string> = {};
        const entries = Object.entries(value);
        if (entries.length > leaf.maxItems) throw new Error(`at most ${leaf.maxItems} entries, got ${entries.length}`);
        for (const [k, v] of entries) {
          if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`value of ${JSON.stringify(k)} must be a string`);
          if (/[\r\n\0]/.test(k) || /[\r\n\0]/.test(String(v))) throw new Error(`entry ${JSON.stringify(k)} contains a control character`);
          out[k] = String(v);
        }
        return out;
      }
      case 'ignored':
      case 'refusedIfEnabled':
        return undefined;
    }
  } catch (e) {
    throw new ConfigError(key, (e as Error).message);
  }
}

function checkRange(n: number, min: number, max: number): number {
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
  return n;
}

/** Problems found while building: every one is reported, not only the first. */
type Problems = ConfigError[];

function build<F extends Readonly<Record<string, Node>>>(prefix: string, sec: Section<F>, raw: Raw, notes: string[], problems: Problems): ValueOf<Section<F>> {
  const aliases = new Map<string, string>(); // old name → new: keys renamed to carry their unit
  for (const [name, node] of Object.entries(sec.fields)) if ('was' in node && node.was !== undefined) aliases.set(node.was, name);
  for (const key of Object.keys(raw)) {
    if (!(key in sec.fields) && !aliases.has(key)) problems.push(new ConfigError(`${prefix}${key}`, 'unknown key'));
  }
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(raw, k);
  const out: Raw = {};
  for (const [name, node] of Object.entries(sec.fields)) {
    const key = `${prefix}${name}`;
    const was = 'was' in node ? node.was : undefined;
    let from = name;
    if (was !== undefined && has(was)) {
      if (has(name)) problems.push(new ConfigError(`${prefix}${was}`, `the old name of ${key}: set one of the two`));
      else notes.push(`${prefix}${was} is deprecated: it is read as ${key} (the same value; rename it)`);
      from = has(name) ? name : was;
    }
    const present = has(from);
    try {
      out[name] = buildNode(key, node, present ? raw[from] : undefined, present, notes, problems);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e);
    }
  }
  // The loop gives every key of the section the value its node declares (leafValue and build
  // mirror ValueOf, and the type test in test/config-types.test.ts holds them to it); TypeScript
  // cannot follow a loop over keys, so this is the one assertion between the two.
  return out as ValueOf<Section<F>>;
}

function buildNode(key: string, node: Node, value: unknown, present: boolean, notes: string[], problems: Problems): unknown {
  if (node.kind === 'section') {
    if (present && !isObject(value)) throw new ConfigError(key, `expected an object, got ${JSON.stringify(value)}`);
    return build(`${key}.`, node, present ? (value as Raw) : {}, notes, problems);
  }
  if (node.kind === 'ignored') {
    if (present) notes.push(`${key} is ignored: ${node.doc}`);
    return undefined;
  }
  if (node.kind === 'refusedIfEnabled') {
    if (present) {
      const flag = isObject(value) ? value[node.flag] : undefined;
      if (flag === true || flag === 'true') throw new ConfigError(`${key}.${node.flag}`, `not supported: ${node.doc}`);
      notes.push(`${key} is ignored while ${node.flag} is false`);
    }
    return undefined;
  }
  const envName = 'env' in node ? node.env : undefined;
  if (envName !== undefined) {
    const env = process.env[envName];
    if (env !== undefined && env !== '') return leafValue(`${key} (from ${envName})`, node, env);
  }
  if (present && node.kind === 'duration' && isBareNumber(value)) {
    notes.push(`${key} = ${String(value)} has no unit and is read as milliseconds: write "${String(value)} ms", or the unit meant ("${String(value)} days", "${String(value)} seconds")`);
  }
  return present ? leafValue(key, node, value) : node.default;
}

/** A number, or a numeric string without a unit (not 0, which needs none). */
function isBareNumber(value: unknown): boolean {
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) && Number(value) !== 0;
}

/** A group with a quantifier inside, itself quantified: (a+)+, (a*)*, (?:ab+){2,}, (a|b*)+. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/**
 * The smallest wal.segmentBytes the other settings allow: a segment must hold twice what one
 * request can produce (its records, split or as a bad row, and their framing), so a roll always
 * makes room. docs/configuration.md states it for the defaults.
 */
export function minSegmentBytes(dropPayloadSize: number, maxRecordBytes: number): number {
  return (Math.max(dropPayloadSize, maxRecordBytes) * 2 + 64 * 1024) * 2;
}

function crossChecks(c: SluiceConfig): void {
  const n = c.collector.networking;
  if (n.dropPayloadSize < n.maxPayloadSize) {
    throw new ConfigError('collector.networking.dropPayloadSize', `must be at least maxPayloadSize (${n.maxPayloadSize})`);
  }
  const least = minSegmentBytes(n.dropPayloadSize, c.wal.maxRecordBytes);
  if (c.wal.segmentBytes < least) {
    throw new ConfigError('wal.segmentBytes', `must be at least ${least} bytes: twice what one request can produce (from dropPayloadSize and maxRecordBytes)`);
  }
  const keyProblem = validateKeyTemplate(c.ship.keyTemplate);
  if (keyProblem !== null) throw new ConfigError('ship.keyTemplate', keyProblem);
  if (c.s3.sse === 'aws:kms' && c.s3.kmsKeyId === null) throw new ConfigError('s3.kmsKeyId', 'required when s3.sse is aws:kms');
  if (c.ship.partSizeBytes > c.ship.multipartThresholdBytes) throw new ConfigError('ship.partSizeBytes', 'must not exceed ship.multipartThresholdBytes');
  if (c.admin.enabled && c.admin.port !== 0 && c.admin.port === c.collector.port) {
    throw new ConfigError('admin.port', `must differ from collector.port (${c.collector.port}): metrics never go on the public port`);
  }
  if (c.collector.doNotTrackCookie.enabled) {
    try {
      new RegExp(c.collector.doNotTrackCookie.value);
    } catch (e) {
      throw new ConfigError('collector.doNotTrackCookie.value', `not a valid regular expression: ${(e as Error).message}`);
    }
    if (NESTED_QUANTIFIER.test(c.collector.doNotTrackCookie.value)) {
      throw new ConfigError('collector.doNotTrackCookie.value', 'a quantified group that contains a quantifier (such as (a+)+) can backtrack for minutes on a cookie value a tracker sends; rewrite it without nesting');
    }
  }
  for (const [key, value] of [['ship.keyTemplate', c.ship.keyTemplate], ['s3.prefix', c.s3.prefix], ['s3.badPrefix', c.s3.badPrefix]] as const) {
    if (value.split('/').some((part) => part === '..' || part === '.')) throw new ConfigError(key, `"${value}" has a . or .. segment: keys must not climb out of their prefix (replay --to-dir writes them as paths)`);
    if (value.startsWith('/')) throw new ConfigError(key, `"${value}" must not start with /`);
  }
  streamChecks(c);
  const allowedTargets = new Set(['/com.snowplowanalytics.snowplow/tp2', '/com.snowplowanalytics.iglu/v1', '/r/tp2']);
  for (const [from, to] of Object.entries(c.collector.paths)) {
    if (!/^\/[^/]+\/[^/]+$/.test(from)) throw new ConfigError(`collector.paths."${from}"`, 'a custom path must have exactly two segments, /vendor/version');
    if (!allowedTargets.has(to)) throw new ConfigError(`collector.paths."${from}"`, `must map to one of ${[...allowedTargets].join(', ')}`);
  }
  for (const [name, value] of Object.entries(c.collector.rootResponse.headers)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new ConfigError(`collector.rootResponse.headers."${name}"`, 'not a valid header name');
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new ConfigError(`collector.rootResponse.headers."${name}"`, 'not a valid header value');
  }
}

/** The stream sink's settings that only make sense together. */
function streamChecks(c: SluiceConfig): void {
  const s = c.collector.streams;
  if (c.stream.enabled === 'on' && s.good.name === null) throw new ConfigError('collector.streams.good.name', 'required when stream.enabled is on');
  if (!streamSinkEnabled(c)) return;
  if (s.bad.name === null) throw new ConfigError('collector.streams.bad.name', 'required when the stream sink is on (good.name is set): bad rows go there');
  if (c.wal.shards > 1) throw new ConfigError('stream.enabled', 'the stream sink runs with wal.shards = 1 only, for now: set wal.shards = 1, or stream.enabled = off');
  for (const side of ['good', 'bad'] as const) {
    const b = s[side].backoffPolicy;
    if (b.minBackoff > b.maxBackoff) throw new ConfigError(`collector.streams.${side}.backoffPolicy.minBackoff`, `must not exceed maxBackoff (${b.maxBackoff})`);
  }
}

/**
 * Builds the configuration from a parsed document: an optional `collector { }` block with SSC
 * key names, Sluice's own sections beside it, and the SLUICE_* environment overrides.
 */
export function configFromObject(raw: Raw, notes: string[] = []): LoadedConfig {
  const problems: Problems = [];
  const config: SluiceConfig = build('', SCHEMA, normalizeStreamsBlock(raw, notes), notes, problems);
  if (problems.length > 0) throw new ConfigErrors(problems);
  crossChecks(config);
  return { config, notes };
}

export async function loadConfig(file: string | null): Promise<LoadedConfig> {
  if (file === null) return configFromObject({});
  let src: HoconSource;
  try {
    src = readHoconSource(file);
  } catch (e) {
    if (e instanceof HoconSourceError) throw new ConfigSyntaxError(e.message);
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(err.path ?? file, `cannot read: ${err.code ?? err.message}`);
  }
  return configFromObject(await parseConfigText(src.text, file, src), [...src.notes]);
}
