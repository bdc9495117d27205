#!/usr/bin/env node
// Writes dist/build-info.json after the TypeScript build: the commit the build was made from, so
// `--version` can say it where there is no git (an image, a copied dist/): SLUICE_COMMIT when set
// (the Dockerfile's COMMIT), else git, else "unknown".
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
let commit = process.env.SLUICE_COMMIT && process.env.SLUICE_COMMIT !== 'unknown' ? process.env.SLUICE_COMMIT : 'unknown';
if (commit === 'unknown') try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  if (dirty) commit += '-dirty';
} catch { /* not a git checkout */ }
fs.writeFileSync(path.join(root, 'dist', 'build-info.json'), `${JSON.stringify({ commit })}\n`);
