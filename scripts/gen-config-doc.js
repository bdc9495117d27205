#!/usr/bin/env node
// Writes docs/configuration.md from the configuration schema (run after `npm run build`).
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { renderConfigDoc } = require('../dist/config/config-doc.js');

const out = join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(out, renderConfigDoc());
console.log(`wrote ${out}`);
