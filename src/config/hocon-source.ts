/**
 * A HOCON file as the parser gets it: `include "f"`, `include file("f")` and `include
 * required(file("f"))` spliced in, relative to the including file (the parser itself only sees
 * includes through URLs), `key += ${?VAR}` with VAR unset dropped (HOCON: it adds nothing; the
 * parser would add an empty list), and a map from each line back to its file and line, so a
 * parse error is reported as `file:line:col`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Includes nest this deep at most (a cycle is an error long before). */
const MAX_INCLUDE_DEPTH = 16;

export interface SourceLine {
  file: string;
  line: number;
}

export interface HoconSource {
  text: string;
  /** lines[i]: where line i + 1 of `text` came from. */
  lines: SourceLine[];
  /** Includes of absent files (not `required`): HOCON skips them; the operator hears of it. */
  notes: string[];
}

/** A problem with the file itself, at a place in it. */
export class HoconSourceError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

const INCLUDE = /^\s*include\s+(required\()?\s*(?:file\(\s*)?"([^"]+)"\s*\)?\s*\)?\s*$/;
const OTHER_INCLUDE = /^\s*include\s+(?:required\()?\s*(url|classpath)\(/;
const APPEND_OPTIONAL = /^\s*([A-Za-z0-9_.\-"]+)\s*\+=\s*\$\{\?([^}]+)\}\s*,?\s*$/;

function isDefinedElsewhere(path: string, text: string): boolean {
  const last = path.split('.').pop()!.replace(/"/g, '');
  return new RegExp(`(^|[\\s{,.])"?${last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?\\s*[:={]`, 'm').test(text);
}

function expand(file: string, depth: number, out: HoconSource, stack: readonly string[]): void {
  if (depth > MAX_INCLUDE_DEPTH) throw new HoconSourceError(stack[stack.length - 1]!, 0, `includes nest deeper than ${MAX_INCLUDE_DEPTH}`);
  let text = readFileSync(file, 'utf8');
  // An included file may put braces around its root object; spliced into an object they must go.
  const braced = /^\s*\{([\s\S]*)\}\s*$/.exec(text);
  if (depth > 0 && braced !== null) text = text.replace(/^(\s*)\{/, '$1 ').replace(/\}(\s*)$/, ' $1');
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const at = i + 1;
    if (OTHER_INCLUDE.test(raw)) throw new HoconSourceError(file, at, 'include url(...) and classpath(...) are not supported: include a file');
    const inc = INCLUDE.exec(raw);
    if (inc !== null) {
      const target = resolve(dirname(file), inc[2]!);
      if (stack.includes(target)) throw new HoconSourceError(file, at, `include cycle: ${[...stack, target].join(' -> ')}`);
      if (!existsSync(target)) {
        if (inc[1] !== undefined) throw new HoconSourceError(file, at, `required include ${inc[2]} not found (${target})`);
        out.notes.push(`${file}:${at}: include ${inc[2]} not found (${target}): skipped, as HOCON does for includes that are not required(...)`);
        return;
      }
      expand(target, depth + 1, out, [...stack, target]);
      return;
    }
    const append = APPEND_OPTIONAL.exec(raw);
    if (append !== null) {
      const name = append[2]!.trim();
      if (process.env[name] === undefined && !isDefinedElsewhere(name, text)) {
        out.lines.push({ file, line: at });
        out.text += '\n';
        return;
      }
    }
    out.lines.push({ file, line: at });
    out.text += `${raw}\n`;
  });
}

/** Reads `file` with its includes; throws HoconSourceError or the file system's error. */
export function readHoconSource(file: string): HoconSource {
  const root = resolve(file);
  const out: HoconSource = { text: '', lines: [], notes: [] };
  expand(root, 0, out, [root]);
  return out;
}

/** `file:line:col` of a line and column of the expanded text. */
export function placeOf(src: HoconSource, line: number, col: number): string {
  const l = src.lines[line - 1];
  return l === undefined ? `line ${line}:${col}` : `${l.file}:${l.line}:${col}`;
}
