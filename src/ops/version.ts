import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

/** Sluice's version, from package.json. */
export const VERSION = readVersion();
export const ARTIFACT = 'sluice';
