// Disk full on a real (loop-mounted ext4) filesystem: the collector answers 503 instead of taking
// events it cannot store, no segment is corrupt, /health says why, and traffic is accepted again
// once space returns; with shipping, the files of shipped segments come back as spares in place
// and carry the traffic on the full disk. Needs root (CI runs as root); skipped otherwise.
import t from 'tap';
import { peakRss, recordScenario } from './helpers/reliability';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { request } from './helpers/http';
import { startServer, walPayloads } from './helpers/server';
import { scanSegmentFile } from '../src/wal/segment-scanner';
import { FrameKind } from '../src/wal/segment-format';
import { SEGMENT_NAME } from '../src/wal/wal-files';
import { decodeRecord } from './helpers/records';
import { lzopDecompress, parseBlocks } from './helpers/lzo-read';
import { shipEnv, startS3 } from './helpers/s3';

const isRoot = process.getuid?.() === 0;

/** A 48 MiB ext4 filesystem loop-mounted for the test; unmounted and removed at its end. */
function smallDisk(t: { teardown(fn: () => unknown): void }): string {
  const base = mkdtempSync(join(tmpdir(), 'sluice-full-'));
  const img = join(base, 'disk.img');
  const mnt = join(base, 'mnt');
  mkdirSync(mnt);
  execFileSync('truncate', ['-s', '48M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  t.teardown(() => {
    try { execFileSync('umount', [mnt]); } catch { /* already gone */ }
    rmSync(base, { recursive: true, force: true });
  });
  return mnt;
}

/** Fills the filesystem of `dir` to the last block, then gives back `leave` bytes. */
function fillDisk(dir: string, leave: number): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    ftruncateSync(fd, Math.max(0, size - leave));
    closeSync(fd);
  }
  return filler;
}

t.test('a full disk gives 503s, no corruption, and recovery when space returns', { skip: isRoot ? false : 'needs root to loop-mount a small filesystem' }, async (t) => {
  const mnt = smallDisk(t);
  const walDir = join(mnt, 'wal');
  const s = await startServer({
    env: { SLUICE_WAL_DIR: walDir, SLUICE_WAL_SEGMENT_BYTES: String(4 * 1024 * 1024) },
    // No shipping: a shipped segment would leave the WAL (its events in S3, not checked here), and
    // its file, recycled in place, would make a spare without new blocks: the disk would not stay full.
    config: { wal: { minFreeBytes: 0, maxRecordBytes: 100_000 }, ship: { enabled: false }, collector: { networking: { dropPayloadSize: 65536, maxPayloadSize: 65536 } } },
  });
  t.teardown(() => s.stop());
  // Fill the filesystem to the last block, then give back 3 MiB: less than a segment and its spare.
  const filler = fillDisk(mnt, 3 * 1024 * 1024);

  const body = 'x'.repeat(2000);
  const acked: number[] = [];
  let first503 = -1;
  for (let i = 0; i < 20_000 && first503 < 0; i++) {
    const r = await request(s.port, { method: 'POST', path: '/com.acme/v1', body: `${i}:${body}` });
    if (r.status === 200) acked.push(i);
    else if (r.status === 503) first503 = i;
    else t.fail(`unexpected status ${r.status}`);
  }
  t.ok(first503 > 0, `503 once the disk is full (after ${acked.length} events)`);
  const health = await request(s.port, { path: '/health' });
  t.equal(health.status, 503, '/health is unhealthy while full');
  t.equal((await request(s.port, { method: 'POST', path: '/com.acme/v1', body: 'more' })).status, 503, 'still refusing');

  for (const name of readdirSync(walDir).filter((n) => SEGMENT_NAME.test(n))) {
    const scan = scanSegmentFile(join(walDir, name));
    t.ok(typeof scan !== 'string' && (scan.problem === null), `${name} is valid`);
  }
  let valid = 0;
  const segments = readdirSync(walDir).filter((n) => SEGMENT_NAME.test(n));
  for (const name of segments) {
    const scan = scanSegmentFile(join(walDir, name));
    if (typeof scan !== 'string' && scan.problem === null) valid++;
  }
  const storedList = walPayloads(walDir, FrameKind.Good).map((p) => Number(decodeRecord(p).body!.split(':')[0]));
  const stored = new Set(storedList);
  t.ok(acked.every((i) => stored.has(i)), 'every acknowledged event is in the WAL');
  recordScenario({
    id: 'fault-disk-full', group: 'fault', title: 'WAL volume full (48 MiB loop-mounted ext4) under traffic, then space returns',
    acknowledged: acked.length, lost: acked.filter((i) => !stored.has(i)).length, duplicates: storedList.length - stored.size,
    crashes: s.proc.exitCode === null ? 0 : 1, peakRssBytes: peakRss(s.proc.pid),
    notes: `503 from event ${first503}; ${valid}/${segments.length} segments valid`,
  }, first503 > 0 && valid === segments.length);

  rmSync(filler);
  let back = false;
  for (let i = 0; i < 100 && !back; i++) {
    await new Promise((r) => setTimeout(r, 100));
    back = (await request(s.port, { method: 'POST', path: '/com.acme/v1', body: 'after' })).status === 200;
  }
  t.ok(back, 'accepted again once space returned');
  t.equal((await request(s.port, { path: '/health' })).status, 200, '/health healthy again');
});

t.test('free disk under the floor gives 503', async (t) => {
  const s = await startServer({ config: { wal: { minFreeBytes: '1000 GiB' } } });
  t.teardown(() => s.stop());
  await new Promise((r) => setTimeout(r, 400));
  const r = await request(s.port, { path: '/i' });
  t.equal(r.status, 503, 'refused');
  const h = await request(s.port, { path: '/health' });
  t.equal(h.status, 503);
  t.match(h.text, /free disk \d+ bytes is below the floor/);
  t.equal(s.records().length, 0, 'nothing stored');
});

t.test('with shipping, shipped segment files become spares in place and carry the traffic on a full disk', { skip: isRoot ? false : 'needs root to loop-mount a small filesystem' }, async (t) => {
  const mnt = smallDisk(t);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await startServer({
    env: { ...shipEnv(s3, 60), SLUICE_WAL_DIR: join(mnt, 'wal'), SLUICE_WAL_SEGMENT_BYTES: String(4 * 1024 * 1024) },
    config: { wal: { minFreeBytes: 0, maxRecordBytes: 100_000, recycleSegments: 2 }, collector: { networking: { dropPayloadSize: 65536, maxPayloadSize: 65536 } } },
  });
  t.teardown(() => s.stop());
  // 3 MiB left: a new 4 MiB spare cannot be written, so rolls need the files of shipped segments.
  fillDisk(mnt, 3 * 1024 * 1024);
  const body = 'x'.repeat(2000);
  const events = 6000; // ~12 MiB: three segments of 4 MiB on a disk with 3 MiB free
  let refused = 0;
  let acked = 0;
  const until = Date.now() + 90_000;
  while (acked < events && Date.now() < until) {
    const r = await request(s.port, { method: 'POST', path: '/com.acme/v1', body: `${acked}:${body}` });
    if (r.status === 200) {
      acked++;
    } else if (r.status === 503) {
      refused++; // the same event again, as a tracker would
      await new Promise((res) => setTimeout(res, 20));
    } else {
      t.fail(`unexpected status ${r.status}`);
      break;
    }
  }
  t.equal(acked, events, `all ${events} events acknowledged on the full disk (${refused} answers 503 on the way)`);
  const metrics = (await request(s.adminPort!, { path: '/metrics' })).body.toString();
  const recycled = Number(/^sluice_wal_segments_recycled_total (\d+)/m.exec(metrics)?.[1] ?? 0);
  t.ok(recycled >= 1, `${recycled} shipped segment files became spares`);
  // Everything ships on shutdown; then every event is in S3 exactly once.
  t.equal(await s.stop('SIGTERM'), 0, 'clean shutdown');
  const ids: number[] = [];
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    for (const r of parseBlocks(lzopDecompress(await s3.get(o.Key!))).records) ids.push(Number(decodeRecord(r).body!.split(':')[0]));
  }
  const unique = new Set(ids);
  t.equal(unique.size, events, `every event is in S3 (${unique.size} of ${events})`);
  t.equal(ids.length, unique.size, 'none twice');
});

t.test('a WAL volume that fills while S3 is down drains by itself once S3 returns (issue 20, item 5)', { skip: isRoot ? false : 'needs root to loop-mount a small filesystem' }, async (t) => {
  const mnt = smallDisk(t);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const s = await startServer({
    env: { ...shipEnv(s3, 60), SLUICE_WAL_DIR: join(mnt, 'wal'), SLUICE_WAL_SEGMENT_BYTES: String(4 * 1024 * 1024) },
    config: {
      wal: { minFreeBytes: 0, maxRecordBytes: 100_000 },
      ship: { retryBaseDelayMs: '50 ms', retryMaxDelayMs: '500 ms', maxAttempts: 2 },
      s3: { requestTimeoutMs: '1 second' },
      collector: { networking: { dropPayloadSize: 65536, maxPayloadSize: 65536 } },
    },
  });
  t.teardown(() => s.stop());
  await s3.stop();
  // Incompressible events until the volume is full and the collector refuses.
  const acked: number[] = [];
  let full = false;
  for (let i = 0; i < 40_000 && !full; i++) {
    const r = await request(s.port, { method: 'POST', path: '/com.acme/v1', body: `${i}:${randomBytes(1500).toString('base64')}` });
    if (r.status === 200) acked.push(i);
    else if (r.status === 503) full = true;
    else t.fail(`unexpected status ${r.status}`);
  }
  t.ok(full, `503 once the volume is full (${acked.length} events acknowledged, S3 down)`);
  await s3.restart();
  // Nothing else changes: the collector must make the room itself by shipping.
  let back = false;
  const until = Date.now() + 60_000;
  while (!back && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    back = (await request(s.port, { method: 'POST', path: '/com.acme/v1', body: 'after' })).status === 200;
  }
  t.ok(back, 'accepting again, without a restart, once S3 returned');
  t.equal(await s.stop('SIGTERM'), 0, 'clean shutdown (the rest ships in the drain)');
  const ids: number[] = [];
  for (const o of (await s3.list('raw/')).filter((x) => x.Key!.endsWith('.lzo'))) {
    for (const r of parseBlocks(lzopDecompress(await s3.get(o.Key!))).records) {
      const body = decodeRecord(r).body!;
      if (body !== 'after') ids.push(Number(body.split(':')[0]));
    }
  }
  const unique = new Set(ids);
  const lost = acked.filter((i) => !unique.has(i)).length;
  t.equal(lost, 0, `every acknowledged event is in S3 (${acked.length})`);
  t.equal(ids.length, unique.size, 'none twice');
  recordScenario({
    id: 'fault-disk-full-s3-down', group: 'fault', title: 'WAL volume full (48 MiB ext4, floor 0, incompressible events) while S3 is down, then S3 returns',
    acknowledged: acked.length, lost, duplicates: ids.length - unique.size, crashes: 0, peakRssBytes: 0,
    notes: 'shipping builds into the outbox slots reserved at start, so it needs no free space; the collector accepts again by itself',
  }, full && back);
});
