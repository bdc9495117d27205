// --version on `sluice` and `node dist/server` (issue 24): the version, the commit the build was
// made from (dist/build-info.json, written by the build) and the Node version.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ROOT } from './helpers/server';

t.test('--version', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const info = JSON.parse(readFileSync(join(ROOT, 'dist', 'build-info.json'), 'utf8')) as { commit: string };
  t.match(info.commit, /^([0-9a-f]{12}(-dirty)?|unknown)$/, 'the build recorded its commit');
  for (const args of [['dist/cli.js', '--version'], ['dist/server.js', '--version'], ['dist/cli.js', 'server', '--version']]) {
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    t.equal(r.status, 0, `${args.join(' ')}: exit 0`);
    t.equal(r.stdout.trim(), `sluice ${pkg.version} (commit ${info.commit}, Node ${process.version})`, `${args.join(' ')}: one line`);
  }
});
