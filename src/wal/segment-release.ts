/**
 * What becomes of a shipped segment's file when the WAL cannot recycle it: moved to the archive
 * directory (kept `ship.archiveRetention`), or deleted. The one place a shipped file leaves.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

export function retireSegmentFile(path: string, archiveDir: string | null): void {
  if (archiveDir === null) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(archiveDir, { recursive: true });
  renameSync(path, join(archiveDir, basename(path)));
}
