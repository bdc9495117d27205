/** Sluice's version (package.json) and the commit it was built from (dist/build-info.json). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

/** The commit of the build (scripts/build-info.js), or "unknown" (run from source, no git). */
function readCommit(): string {
  const file = join(__dirname, '..', 'build-info.json');
  if (!existsSync(file)) return 'unknown';
  const info: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const commit = (info as { commit?: unknown }).commit;
  return typeof commit === 'string' ? commit : 'unknown';
}

export const VERSION = readVersion();
export const COMMIT = readCommit();
export const ARTIFACT = 'sluice';

/** What `--version` prints. */
export function versionLine(): string {
  return `sluice ${VERSION} (commit ${COMMIT}, Node ${process.version})`;
}
