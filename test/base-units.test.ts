// Unit tests of the bottom layers: src/config (errors, units, key templates, HOCON sources, test
// hooks), src/lzo (Adler-32, elephant-bird blocks, the LZO binding against lzo-wasm), src/payload
// (bad rows, the record decoder, record time).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { codeOf, ERROR_CODES, operatorLine, SluiceError, StartError } from '../src/config/errors';
import { placeOf, readHoconSource } from '../src/config/hocon-source';
import { DEFAULT_KEY_TEMPLATE, validateKeyTemplate } from '../src/config/key-template';
import { testHooks } from '../src/config/test-hooks';
import { parseDurationMs, parseSizeBytes } from '../src/config/units';
import { adler32 } from '../src/lzo/adler32';
import { BLOCK_MARKER, BlockBuilder, decodeBlock, recordsOfPieces } from '../src/lzo/elephant-bird';
import { LzoCompressor, lzoDecompress, lzoWorstCase } from '../src/lzo/lzo-binding';
import { sizeViolationRow, SIZE_VIOLATION_SCHEMA } from '../src/payload/bad-row';
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayload } from '../src/payload/collector-payload';
import { DecodeError, decodeCollectorPayload } from '../src/payload/decode-payload';
import { recordTimeMs } from '../src/payload/record-time';
import { FrameKind } from '../src/wal/segment-format';
import { lzoWasm } from './helpers/lzo-read';

t.test('errors: stable codes, one line', async (t) => {
  const e = new StartError('port 8080 taken');
  t.ok(e instanceof SluiceError);
  t.equal(codeOf(e), ERROR_CODES.start);
  t.equal(operatorLine(e), 'port 8080 taken [SLUICE_E_START]');
  t.equal(e.name, 'StartError');
  const fsError = Object.assign(new Error('x'), { code: 'EACCES', path: '/var/wal', syscall: 'open' });
  t.equal(operatorLine(fsError), 'cannot use /var/wal: EACCES (open) [SLUICE_E_INTERNAL]', 'a file system error names its path and code');
  t.equal(operatorLine('odd'), 'odd [SLUICE_E_INTERNAL]');
  t.ok(Object.values(ERROR_CODES).every((c) => /^SLUICE_E_[A-Z_]+$/.test(c)));
});

t.test('units', async (t) => {
  t.equal(parseDurationMs('30 seconds'), 30_000);
  t.equal(parseDurationMs('365 days'), 365 * 86_400_000);
  t.equal(parseDurationMs(500), 500, 'a bare number is ms');
  t.equal(parseSizeBytes('2 MiB'), 2 * 1024 * 1024);
  t.equal(parseSizeBytes('1 MB'), 1_000_000);
  t.throws(() => parseDurationMs('3 fortnights'), /unknown unit/);
  t.throws(() => parseSizeBytes({}), /expected a size/);
});

t.test('key templates', async (t) => {
  t.equal(validateKeyTemplate(DEFAULT_KEY_TEMPLATE), null);
  t.match(validateKeyTemplate('{prefix}/{seq}.{ext}')!, /\{instance\}/, 'keys must stay unique');
  t.match(validateKeyTemplate('{prefix}/{nope}/{instance}-{seq}.{ext}')!, /unknown placeholder/);
});

t.test('HOCON source: includes spliced with a line map', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hs-'));
  writeFileSync(join(dir, 'a.hocon'), 'x = 1\ninclude "b.hocon"\ny = 2\n');
  writeFileSync(join(dir, 'b.hocon'), 'z = 3\nw = 4\n');
  const src = readHoconSource(join(dir, 'a.hocon'));
  t.match(src.text, /^x = 1\nz = 3\nw = 4\n\ny = 2\n/, 'the included lines in place');
  t.equal(placeOf(src, 3, 5), `${join(dir, 'b.hocon')}:2:5`, 'line 3 of the whole is line 2 of b.hocon');
  t.equal(placeOf(src, 5, 1), `${join(dir, 'a.hocon')}:3:1`);
});

t.test('test hooks are off unless set', async (t) => {
  t.equal(testHooks.syncDelayMs, Number(process.env['SLUICE_FAULT_SYNC_DELAY_MS'] ?? 0));
  if (process.env['SLUICE_FAULT_KILL_AFTER_SHIP'] === undefined) t.equal(testHooks.killAfterShip, false);
});

t.test('lzo: Adler-32, elephant-bird blocks, the LZO binding', async (t) => {
  t.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398, 'the reference value');
  const b = new BlockBuilder();
  const records = [Buffer.from('one'), Buffer.alloc(300, 7), Buffer.from('')];
  for (const r of records) b.add(r);
  t.equal(b.records, 3);
  const block = Buffer.from(b.take());
  t.ok(block.subarray(0, 16).equals(BLOCK_MARKER), 'starts with the elephant-bird marker');
  const decoded = decodeBlock(block, 0);
  t.same(decoded.records.map((r) => r.toString('hex')), records.map((r) => r.toString('hex')), 'decodes to the records');
  t.equal(decoded.end, block.length);
  const twice = Buffer.concat([block, block]);
  t.equal([...recordsOfPieces([twice.subarray(0, 10), twice.subarray(10)])].length, 6, 'records across pieces');
  const c = new LzoCompressor(64 * 1024);
  const raw = Buffer.from('abcabcabc'.repeat(1000));
  const packed = Buffer.from(c.compress(raw));
  t.ok(packed.length < raw.length / 10, 'compresses repetitive data');
  t.ok(lzoDecompress(packed, raw.length).equals(raw), 'round trip');
  t.ok((await lzoWasm()).decompress(packed, raw.length).equals(raw), 'an independent decoder (lzo-wasm) reads it');
  t.ok(lzoWorstCase(1000) > 1000);
  t.throws(() => c.compress(Buffer.alloc(64 * 1024 + 1)), /over/);
});

t.test('payload: bad rows, the decoder, record time', async (t) => {
  const row = JSON.parse(sizeViolationRow({ artifact: 'sluice', version: '1' }, { maximumAllowedSizeBytes: 10, actualSizeBytes: 20, expectation: 'smaller', payload: 'xx' }, new Date(0)).toString()) as { schema: string; data: { failure: { timestamp: string; actualSizeBytes: number } } };
  t.equal(row.schema, SIZE_VIOLATION_SCHEMA);
  t.equal(row.data.failure.timestamp, '1970-01-01T00:00:00.000Z');
  t.equal(row.data.failure.actualSizeBytes, 20);
  const rec = encodeCollectorPayload({ schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '192.0.2.1', timestamp: 1_700_000_000_123, encoding: 'UTF-8', collector: 'c', path: '/i', querystring: 'e=pv', headers: ['Host: h'], networkUserId: 'n' });
  const p = decodeCollectorPayload(rec);
  t.same([p.ipAddress, p.timestamp, p.path, p.querystring, p.headers, p.networkUserId], ['192.0.2.1', 1_700_000_000_123, '/i', 'e=pv', ['Host: h'], 'n']);
  try {
    decodeCollectorPayload(Buffer.from([0x0b, 0x01]));
    t.fail('a truncated record must not decode');
  } catch (e) {
    t.ok(e instanceof DecodeError, 'a truncated record: DecodeError');
    t.match((e as Error).message, /ends early/);
  }
  t.equal(recordTimeMs(FrameKind.Good, rec), 1_700_000_000_123);
  t.equal(recordTimeMs(FrameKind.Bad, Buffer.from('{}')), null, 'bad rows carry no event time');
});
