// LzopWriter's container, read by independent means: Debian's lzop (-t and -dc), lzo-wasm with
// zlib's CRC-32 for every block's checksum, and a flipped byte caught by lzop and by Sluice's own
// reader. Files of earlier versions (Adler-32 per block, as lzop writes by default) still read.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { F_CRC32_D, LzopWriter, MAX_BLOCK_BYTES } from '../src/lzo/lzop-writer';
import { readLzopBlocks as readWithSluice } from '../src/lzo/lzop-reader';
import { lzopDecompress, lzopTest, readLzopBlocks } from './helpers/lzo-read';

const dir = mkdtempSync(join(tmpdir(), 'sluice-lzop-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Three blocks: compressible text, random bytes (stored, as they do not compress), a short tail. */
function input(): Buffer {
  const text = Buffer.from('e=pv&url=https%3A%2F%2Fexample.com%2F&page=Home&tv=js-3.0.0&'.repeat(5000)).subarray(0, MAX_BLOCK_BYTES);
  return Buffer.concat([text, randomBytes(MAX_BLOCK_BYTES), Buffer.from('tail')]);
}

function write(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const w = new LzopWriter({ write: (c) => parts.push(Buffer.from(c)) }, 1_795_000_000);
  w.write(data.subarray(0, 1000));
  w.write(data.subarray(1000));
  w.finish();
  return Buffer.concat(parts);
}

t.test('blocks carry a CRC-32 of their data that lzop and an independent reader verify', async (t) => {
  const data = input();
  const file = write(data);
  t.equal(file.readUInt32BE(17), F_CRC32_D, 'header flags: F_CRC32_D only');
  t.doesNotThrow(() => lzopTest(file), 'lzop -t passes');
  t.ok(lzopDecompress(file).equals(data), 'lzop -dc gives the input back');
  const walk = await readLzopBlocks(file); // checks each block's CRC-32 with zlib's
  t.equal(walk.offsets.length, 3, 'three blocks');
  t.ok(walk.data.equals(data), 'lzo-wasm gives the input back');
  const stored = file.readUInt32BE(walk.offsets[1]! + 4);
  t.equal(stored, MAX_BLOCK_BYTES, 'the random block is stored');
  t.equal([...readWithSluice(file)].length, 3, "Sluice's reader accepts it");
});

t.test('a flipped byte in a stored block is a checksum error', async (t) => {
  const file = write(input());
  const offsets = (await readLzopBlocks(file)).offsets;
  const bad = Buffer.from(file);
  bad[offsets[1]! + 12 + 5000]! ^= 0x40; // inside the stored block's data: it still "decompresses"
  t.throws(() => lzopTest(bad), /checksum error/i, 'lzop -t reports a checksum error');
  t.throws(() => [...readWithSluice(bad)], /CRC-32 mismatch of the uncompressed data/, "Sluice's reader reports the CRC-32 mismatch");
  await t.rejects(readLzopBlocks(bad), /CRC-32 of the block/, 'the test reader too');
});

t.test('a file with Adler-32 block checksums (lzop default, earlier Sluice versions) reads the same', async (t) => {
  const data = input();
  const raw = join(dir, 'adler.bin');
  writeFileSync(raw, data);
  execFileSync('lzop', ['-1', '-f', '-o', `${raw}.lzo`, raw]);
  const file = readFileSync(`${raw}.lzo`);
  t.ok(file.readUInt32BE(17) & 0x1, 'lzop wrote F_ADLER32_D');
  t.notOk(file.readUInt32BE(17) & F_CRC32_D, 'and no CRC-32');
  t.ok(Buffer.concat([...readWithSluice(file)].map((b) => b.data)).equals(data), "Sluice's reader gives the data back");
  const bad = Buffer.from(file);
  bad[bad.length - 8]! ^= 0x01; // in the last block (random bytes, stored), before the terminator
  t.throws(() => [...readWithSluice(bad)], /Adler-32 mismatch/, 'a flipped byte is caught');
});
