/**
 * Mounts test/helpers/volatile-fs.py (a FUSE file system whose unsynced writes live only in its
 * own memory) over a backing directory, and cuts the power: the daemon is killed, so what was not
 * fsynced is lost, and the mount is detached. Needs /dev/fuse, fusermount and python3-fusepy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function volatileFsAvailable(): string | null {
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (spawnSync('which', ['fusermount']).status !== 0) return 'no fusermount (apt-get install fuse3)';
  if (spawnSync('/usr/bin/python3', ['-c', 'import fusepy']).status !== 0) return 'no python3-fusepy (apt-get install python3-fusepy libfuse2)';
  return null;
}

export interface VolatileMount {
  mountpoint: string;
  /** The power cut: unsynced data is gone; the mount is detached. */
  cut(): Promise<void>;
}

function mounted(mountpoint: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mountpoint);
}

export async function mountVolatile(backing: string, mountpoint: string): Promise<VolatileMount> {
  mkdirSync(backing, { recursive: true });
  mkdirSync(mountpoint, { recursive: true });
  const daemon: ChildProcess = spawn('/usr/bin/python3', [join(__dirname, 'volatile-fs.py'), backing, mountpoint], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  daemon.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const until = Date.now() + 10_000;
  while (!mounted(mountpoint)) {
    if (daemon.exitCode !== null || Date.now() > until) throw new Error(`volatile-fs did not mount: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    mountpoint,
    async cut() {
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      spawnSync('fusermount', ['-uz', mountpoint]);
    },
  };
}
