#!/usr/bin/env node
// Generates the thrift package's code for CollectorPayload from thrift/collector-payload.thrift
// with Debian's thrift-compiler, for tests that check Sluice's hand-written encoder against it:
//   test/gen/declared/ - the IDL as written (the reader; toString order)
//   test/gen/sorted/   - the same fields declared in ascending id order, so the generated JS
//                        writer emits them in the order Java's TSerializer (and SSC) does.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, readFileSync, writeFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const idlPath = join(root, 'thrift', 'collector-payload.thrift');
const out = join(root, 'test', 'gen');
const idl = readFileSync(idlPath, 'utf8');

const fieldLine = /^\s*(\d+):\s*(optional\s+)?[\w<>]+\s+\w+\s*$/;
const lines = idl.split('\n');
const fields = lines.filter((l) => fieldLine.test(l));
if (fields.length !== 14) throw new Error(`expected 14 fields in ${idlPath}, found ${fields.length}`);
const sorted = [...fields].sort((a, b) => Number(fieldLine.exec(a)[1]) - Number(fieldLine.exec(b)[1]));
const structStart = lines.findIndex((l) => /^struct CollectorPayload/.test(l));
const header = lines.slice(0, structStart).join('\n');
const sortedIdl = `${header}\nstruct CollectorPayload {\n${sorted.join('\n')}\n}\n`;

rmSync(out, { recursive: true, force: true });
for (const [name, text] of [['declared', idl], ['sorted', sortedIdl]]) {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'collector_payload.thrift');
  writeFileSync(file, text);
  execFileSync('thrift', ['--gen', 'js:node', '-out', dir, file], { stdio: 'inherit' });
}
mkdirSync(join(out, 'py'), { recursive: true });
execFileSync('thrift', ['--gen', 'py', '-out', join(out, 'py'), join(out, 'declared', 'collector_payload.thrift')], { stdio: 'inherit' });
console.log(`generated thrift test code in ${out}`);
