// One command-line style for every script in bench/: `--name value` options (numbers, strings,
// space-separated lists, flags), `--help` printing them with their defaults, an unknown option or
// a bad number refused with exit 2 (a typo must not silently run the default benchmark).
'use strict';
const { parseArgs } = require('node:util');

/**
 * spec: { name: { kind: 'number' | 'string' | 'list' | 'numbers' | 'flag', default, help } }.
 * 'list' is a space- or comma-separated list of strings, 'numbers' the same of numbers.
 * Returns { name: value } with camelCase names (--ship-interval -> shipInterval).
 */
function options(usage, spec, argv = process.argv.slice(2)) {
  const parseSpec = { help: { type: 'boolean', default: false } };
  for (const [name, s] of Object.entries(spec)) parseSpec[name] = { type: s.kind === 'flag' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseSpec, allowPositionals: false, strict: true }).values;
  } catch (e) {
    fail(usage, spec, e.message);
  }
  if (parsed.help) { console.log(helpText(usage, spec)); process.exit(0); }
  const out = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = parsed[name];
    const key = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (s.kind === 'flag') { out[key] = raw === true; continue; }
    const text = raw ?? (s.default === undefined ? undefined : String(s.default));
    out[key] = text === undefined ? undefined : convert(usage, spec, name, s.kind, text);
  }
  return out;
}

function convert(usage, spec, name, kind, text) {
  const num = (t) => {
    const n = Number(t);
    if (t.trim() === '' || !Number.isFinite(n)) fail(usage, spec, `--${name}: "${t}" is not a number`);
    return n;
  };
  const items = () => text.split(/[\s,]+/).filter(Boolean);
  switch (kind) {
    case 'number': return num(text);
    case 'numbers': return items().map(num);
    case 'list': return items();
    default: return text;
  }
}

function helpText(usage, spec) {
  const rows = Object.entries(spec).map(([name, s]) => {
    const arg = s.kind === 'flag' ? '' : ` <${s.kind === 'numbers' || s.kind === 'list' ? 'list' : s.kind}>`;
    const dflt = s.default === undefined || s.kind === 'flag' ? '' : ` (default: ${JSON.stringify(String(s.default))})`;
    return `  --${name}${arg}\n      ${s.help}${dflt}`;
  });
  return `${usage}\n\noptions:\n${rows.join('\n')}\n  --help\n      this text`;
}

function fail(usage, spec, message) {
  console.error(`${message}\n\n${helpText(usage, spec)}`);
  process.exit(2);
}

module.exports = { options };
