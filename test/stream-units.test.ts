// Unit tests of the stream sink's modules: the WAL's durable marks and release gate, WalTail,
// StreamCheckpoint, LagClock, the durable-mark seqlock, the records' stream parts (size violations,
// partition keys), SSC's streams block in both forms, and StreamSender against kinesalite with a
// client that fails chosen records.
import { openSync, readFileSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { configFromObject } from '../src/config/load';
import { effectiveMaxRecordBytes, normalizeStreamsBlock, streamSinkEnabled } from '../src/config/streams-block';
import { encodeCollectorPayload } from '../src/payload/collector-payload';
import { DurableMarkReader, DurableMarkWriter } from '../src/ship/durable-mark';
import { KinesisStreamClient, type PutOutcome, type StreamClient, type StreamEntry } from '../src/ship/kinesis-client';
import { StreamCheckpoint } from '../src/ship/stream-checkpoint';
import { streamParts } from '../src/ship/stream-entries';
import { LagClock } from '../src/ship/stream-lag';
import { StreamSender } from '../src/ship/stream-sender';
import { WalTail } from '../src/ship/wal-tail';
import { FrameKind, HEADER_BYTES } from '../src/wal/segment-format';
import { ReleaseGate } from '../src/wal/segment-release';
import { segmentFileName, STREAM_CHECKPOINT_FILE, STREAM_SENT_FILE } from '../src/wal/wal-files';
import { startKinesis } from './helpers/kinesis';
import { openWal, put, record, tempDir } from './helpers/wal';

const ID = '11111111-2222-4333-8444-555555555555';

t.test('the WAL publishes durable bytes after each sync; the tail reads up to them, never past', async (t) => {
  const dir = tempDir();
  const wal = openWal(dir, { holders: ['s3', 'stream'] });
  const marks: Array<[number, number]> = [];
  wal.onDurable((seq, bytes) => marks.push([seq, bytes]));
  const tail = new WalTail(dir, 64 * 1024, null);
  const open = wal.openSegmentOnDisk();
  tail.setOpen(open.seq, open.durableBytes);
  t.equal(tail.read({ records: 10, bytes: 1e6 }), null, 'nothing durable yet');
  await put(wal, [record(0), record(1)]);
  t.equal(marks.length, 1, 'one mark for the sync');
  t.equal(marks[0]![1], HEADER_BYTES + 2 * (9 + 100), 'the mark covers both frames');
  // Appended but not synced: the tail must not see it.
  const pending = put(wal, [record(2)]);
  tail.setOpen(...marks[0]!);
  const first = tail.read({ records: 10, bytes: 1e6 })!;
  t.same(first.records.map((r) => r.toString().slice(0, 9)), ['record-0-', 'record-1-'], 'only the synced records');
  t.same(first.end, { seq: open.seq, offset: marks[0]![1] });
  t.equal(tail.read({ records: 10, bytes: 1e6 }), null, 'then nothing until the next mark');
  await pending;
  await put(wal, [], [Buffer.from('{"bad":1}')]);
  await put(wal, [record(3), record(4), record(5)]);
  tail.setOpen(...marks[marks.length - 1]!);
  t.same(tail.read({ records: 10, bytes: 1e6 })!.records.length, 1, 'record 2 alone: a bad row follows');
  const bad = tail.read({ records: 10, bytes: 1e6 })!;
  t.equal(bad.kind, FrameKind.Bad, 'bad rows come in their own read');
  const limited = tail.read({ records: 2, bytes: 1e6 })!;
  t.equal(limited.records.length, 2, 'the record limit holds');
  t.equal(tail.read({ records: 10, bytes: 150 })!.records.length, 1, 'the byte limit holds (one record always fits)');
  t.equal(tail.unreadBytes(), 0, 'caught up');
  await wal.close();
  const sealed = wal.sealedSegments()[0]!;
  tail.addSealed(sealed.seq, sealed.bytes);
  const end = tail.read({ records: 10, bytes: 1e6 })!;
  t.ok(end.segmentDone && end.records.length === 0, 'the footer ends the segment');
  t.same(end.end, { seq: sealed.seq, offset: sealed.bytes });
  tail.close();

  // From a checkpoint in the middle.
  const again = new WalTail(dir, 64 * 1024, { seq: sealed.seq, offset: marks[0]![1] });
  again.addSealed(sealed.seq, sealed.bytes);
  const rest = again.read({ records: 100, bytes: 1e6 })!;
  t.equal(rest.records[0]!.toString().slice(0, 9), 'record-2-', 'resumes after the checkpoint');
  again.close();
  // Segments before the checkpoint are in the stream already: reported once, never read.
  const later = new WalTail(dir, 64 * 1024, { seq: 5, offset: HEADER_BYTES });
  for (const seq of [3, 4, 5, 6]) later.addSealed(seq, 1000);
  t.same(later.takeSkipped(), [3, 4], 'the segments before the checkpoint');
  t.same(later.takeSkipped(), [], 'once');
  t.equal(later.unreadBytes(), 2 * (1000 - HEADER_BYTES), 'the lag counts the rest');
});

t.test('release gate: a segment leaves the WAL only when every sink is past it', async (t) => {
  const g = new ReleaseGate(['s3', 'stream']);
  t.notOk(g.letGo(3, 's3', '/archive'), 's3 alone does not release');
  t.equal(g.partlyReleased, 1);
  t.ok(g.letGo(3, 'stream', null), 'both: released');
  t.equal(g.takeArchiveDir(3), '/archive', 'the shipper\'s archive directory is kept for the release');
  t.throws(() => new ReleaseGate(['s3']).letGo(1, 'stream', null), /does not hold/);
  const dir = tempDir();
  const wal = openWal(dir, { holders: ['s3', 'stream'], segmentBytes: 64 * 1024 });
  for (let i = 0; i < 800; i++) await put(wal, [record(i, 200)]);
  const seg = wal.sealedSegments()[0]!;
  wal.release(seg.seq, null, 's3');
  t.ok(existsSync(seg.path), 'kept while the stream holds it');
  wal.release(seg.seq, null, 'stream');
  t.notOk(wal.sealedSegments().some((s) => s.seq === seg.seq), 'released once both let go');
  await wal.close();
});

t.test('checkpoint: two slots in turn, a torn slot falls back, another WAL\'s is not used', async (t) => {
  const dir = tempDir();
  const path = join(dir, STREAM_CHECKPOINT_FILE);
  const c = StreamCheckpoint.inWal(dir, ID);
  t.equal(c.confirmed, null, 'none at first');
  await c.commit({ seq: 1, offset: 100 });
  await c.commit({ seq: 1, offset: 200 });
  await t.rejects(c.commit({ seq: 1, offset: 150 }), /going back/, 'never back');
  c.markSent({ seq: 2, offset: 64 });
  c.markSent({ seq: 1, offset: 300 });
  c.close();
  const reopened = StreamCheckpoint.inWal(dir, ID);
  t.same(reopened.confirmed, { seq: 1, offset: 200 }, 'the newest slot');
  t.same(reopened.sentBefore, { seq: 2, offset: 64 }, 'the furthest send, not the later lower one');
  reopened.close();
  // Tear the newest slot (generation 2 went to the first slot): the older one is used.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from('torn'), 0, 4, 20);
  closeSync(fd);
  const torn = StreamCheckpoint.inWal(dir, ID);
  t.same(torn.confirmed, { seq: 1, offset: 100 }, 'a torn write leaves the other slot');
  torn.close();
  const other = StreamCheckpoint.inWal(dir, '99999999-2222-4333-8444-555555555555');
  t.equal(other.confirmed, null);
  t.match(other.discarded, /WAL 11111111/, 'another WAL\'s checkpoint is named and not used');
  other.close();
  t.ok(readFileSync(path).length >= 4096 + 64, 'two slots in the checkpoint file');
  t.equal(readFileSync(join(dir, STREAM_SENT_FILE)).length, 64, 'the sent mark in its own file');
});

t.test('lag clock and durable mark', async (t) => {
  const lag = new LagClock(100, 3);
  lag.durableAt({ seq: 0, offset: 100 }, 1000);
  lag.durableAt({ seq: 0, offset: 200 }, 1050);
  lag.durableAt({ seq: 0, offset: 300 }, 1200);
  t.equal(lag.size, 2, 'marks within a step coalesce');
  t.equal(lag.lagMs(1500), 500, 'the oldest unconfirmed mark');
  lag.confirmedUpTo({ seq: 0, offset: 200 });
  t.equal(lag.lagMs(1500), 300);
  lag.confirmedUpTo({ seq: 1, offset: 64 });
  t.equal(lag.lagMs(9999), 0, 'caught up');
  for (let i = 0; i < 10; i++) lag.durableAt({ seq: 2, offset: 100 * (i + 1) }, 2000 + i * 1000);
  t.equal(lag.size, 3, 'bounded');
  const w = new DurableMarkWriter();
  const r = new DurableMarkReader(w.buffer);
  t.same(r.read(), { seq: -1, bytes: 0, version: 0 }, 'nothing published');
  w.publish(7, 12345);
  const v = r.read();
  t.same([v.seq, v.bytes], [7, 12345]);
  const changed = r.changed(v.version, 2000);
  w.publish(7, 20000);
  await changed;
  t.equal(r.read().bytes, 20000, 'the reader wakes on a publish');
});

t.test('stream parts: bad rows to the bad stream, oversized records as size violations, SSC partition keys', async (t) => {
  const rec = (ip: string | null, body = 'x'): Buffer => encodeCollectorPayload({ schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0', ipAddress: ip, timestamp: 1, encoding: 'UTF-8', collector: 'c', path: '/i', body, headers: [] } as never);
  const rules = { goodMaxBytes: 1000, ipAsPartitionKey: true, processor: { artifact: 'sluice', version: '0' } };
  const p = streamParts(FrameKind.Good, [rec('10.1.1.1'), rec('unknown'), rec('10.2.2.2', 'y'.repeat(2000))], rules);
  t.equal(p.good.length, 2);
  t.equal(p.good[0]!.partitionKey, '10.1.1.1', 'the IP with useIpAddressAsPartitionKey');
  t.match(p.good[1]!.partitionKey, /^[0-9a-f-]{36}$/, 'a UUID when the IP is unknown');
  t.equal(p.sizeViolations, 1);
  const row = JSON.parse(p.bad[0]!.data.toString()) as { schema: string; data: { failure: { actualSizeBytes: number; maximumAllowedSizeBytes: number }; payload: string } };
  t.match(row.schema, /size_violation/);
  t.equal(row.data.failure.maximumAllowedSizeBytes, 1000);
  t.ok(row.data.payload.startsWith('CollectorPayload(') && row.data.payload.length <= 100, 'payload: Thrift toString cut to max/10');
  const b = streamParts(FrameKind.Bad, [Buffer.from('{}')], { ...rules, ipAsPartitionKey: false });
  t.equal(b.bad.length, 1);
  t.same(b.bad[0]!.data, Buffer.from('{}'), 'bad rows as written');
});

t.test('SSC streams block: 2.x form read as 3.x, other sinks ignored, the sink on or off', async (t) => {
  const notes: string[] = [];
  const legacy = normalizeStreamsBlock({ collector: { streams: { good: 'g', bad: 'b', useIpAddressAsPartitionKey: true, sink: { enabled: 'kinesis', region: 'eu-west-1', sqsGoodBuffer: 'q' }, buffer: { recordLimit: 100 } } } }, notes);
  const { config } = configFromObject(legacy);
  t.equal(config.collector.streams.good.name, 'g');
  t.equal(config.collector.streams.bad.name, 'b');
  t.equal(config.collector.streams.bad.region, 'eu-west-1', 'the shared sink settings go to both');
  t.equal(config.collector.streams.good.buffer.recordLimit, 100);
  t.ok(config.collector.streams.useIpAddressAsPartitionKey);
  t.match(notes[0], /2\.x form/);
  const kafkaNotes: string[] = [];
  const kafka = configFromObject({ collector: { streams: { good: { name: 'g', brokers: 'localhost:9092' }, bad: { name: 'b', brokers: 'x' } } } }, kafkaNotes);
  t.equal(kafka.config.collector.streams.good.name, null, 'a Kafka block configures no stream');
  t.ok(kafkaNotes.some((n) => /Kafka sink/.test(n)), 'and says so');
  t.notOk(streamSinkEnabled(kafka.config));
  const legacyKafka = configFromObject({ collector: { streams: { good: 'g', bad: 'b', sink: { enabled: 'kafka', brokers: 'x' } } } });
  t.notOk(streamSinkEnabled(legacyKafka.config), 'a 2.x Kafka block neither');
  const on = configFromObject({ collector: { streams: { good: { name: 'g', maxBytes: 5000 }, bad: { name: 'b' } } } }).config;
  t.ok(streamSinkEnabled(on), 'auto: on with a good stream named');
  t.equal(effectiveMaxRecordBytes(on), 5000, 'the split limit is the good stream\'s maxBytes');
  t.notOk(streamSinkEnabled(configFromObject({ collector: { streams: { good: { name: 'g' }, bad: { name: 'b' } } }, stream: { enabled: 'off' } }).config), 'off keeps the block without the sink');
  t.throws(() => configFromObject({ stream: { enabled: 'on' } }), /good\.name: required when stream\.enabled is on/);
  t.throws(() => configFromObject({ collector: { streams: { good: { name: 'g' } } } }), /bad\.name: required/);
  t.throws(() => configFromObject({ collector: { streams: { good: { name: 'g' }, bad: { name: 'b' } } }, wal: { shards: 2 } }), /wal\.shards = 1 only/);
  t.throws(() => configFromObject({ collector: { streams: { good: { name: 'g', buffer: { recordLimit: 501 } }, bad: { name: 'b' } } } }), /recordLimit: 501 is outside 1\.\.500/, 'Kinesis\' 500 records bound');
});

/** Fails the records whose data is in `failOnce` on their first attempt, counts calls at once. */
class FlakyClient implements StreamClient {
  inFlight = 0;
  maxInFlight = 0;
  readonly attempts = new Map<string, number>();
  constructor(private readonly real: StreamClient, private readonly failOnce: Set<string>) {}
  async put(stream: string, entries: readonly StreamEntry[]): Promise<PutOutcome> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const fail = entries.map((e) => {
        const key = e.data.toString().slice(0, 12);
        const n = (this.attempts.get(key) ?? 0) + 1;
        this.attempts.set(key, n);
        return this.failOnce.has(key) && n === 1;
      });
      const ok = entries.filter((_, i) => !fail[i]);
      if (ok.length > 0) await this.real.put(stream, ok);
      return { failed: fail.flatMap((f, index) => (f ? [{ index, code: 'ProvisionedThroughputExceededException' }] : [])) };
    } finally {
      this.inFlight--;
    }
  }
  check(stream: string): Promise<string | null> { return this.real.check(stream); }
  close(): void { this.real.close(); }
}

t.test('sender: only failed records retried, at most maxInFlightBatches out, checkpoint and release after confirmation', async (t) => {
  const kinesis = await startKinesis();
  t.teardown(() => kinesis.stop());
  await kinesis.createStreams(['g', 'b'], 1);
  const dir = tempDir();
  const wal = openWal(dir, { holders: ['stream'], segmentBytes: 64 * 1024 });
  for (let i = 0; i < 400; i++) await put(wal, [record(i, 300)]);
  await wal.close();
  const sealed = wal.sealedSegments();
  t.ok(sealed.length >= 2, `${sealed.length} sealed segments`);
  const real = new KinesisStreamClient({ endpoint: kinesis.endpoint, region: 'eu-central-1', credentials: { accessKeyId: 'k', secretAccessKey: 'k' }, requestTimeoutMs: 5000 });
  const flaky = new FlakyClient(real, new Set(['record-7-hhh', 'record-250-q']));
  const tail = new WalTail(dir, 64 * 1024, null);
  for (const s of sealed) tail.addSealed(s.seq, s.bytes);
  const checkpoint = StreamCheckpoint.inWal(dir, wal.instanceId);
  const released: number[] = [];
  const sender = new StreamSender(tail, checkpoint, { good: flaky, bad: flaky }, {
    goodStream: 'g', badStream: 'b', batchRecords: 20, batchBytes: 1024 * 1024, maxInFlightBatches: 3,
    backoff: { good: { minMs: 10, maxMs: 50, maxRetries: 5 }, bad: { minMs: 10, maxMs: 50, maxRetries: 5 } },
    rules: { goodMaxBytes: 1_000_000, ipAsPartitionKey: false, processor: { artifact: 'sluice', version: '0' } },
  }, (seq) => released.push(seq), null);
  await sender.whenIdle();
  const got = (await kinesis.readAll('g')).map((r) => r.data.toString().slice(0, 12));
  t.equal(got.length, 400, 'every record once');
  t.equal(new Set(got).size, 400, 'no record twice: only the failed ones were sent again');
  t.equal(sender.stats.retries, 2, 'two retries, one per failed record');
  t.equal(sender.stats.throttled, 2);
  t.ok(flaky.maxInFlight <= 3, `at most 3 batches out at once (saw ${flaky.maxInFlight})`);
  t.same(released, sealed.map((s) => s.seq), 'each segment released once the checkpoint passed it, in order');
  const last = sealed[sealed.length - 1]!;
  t.same(sender.stats.checkpoint, { seq: last.seq, offset: last.bytes }, 'the checkpoint stands at the end');
  t.ok(readFileSync(join(dir, segmentFileName(last.seq))).length === last.bytes, 'the files are the tail\'s to read, not to change');
  sender.stop();
  checkpoint.close();
  tail.close();
  real.close();
});

t.test('stream settings, metrics and start-up from the configuration', async (t) => {
  const { streamPlan } = await import('../src/ship/stream-settings');
  const { renderStreamMetrics } = await import('../src/ops/stream-metrics');
  const { PrometheusText } = await import('../src/ops/prometheus-text');
  const { startStreamSink } = await import('../src/process/stream-sink');
  const { config } = configFromObject({ collector: { streams: { good: { name: 'g', region: 'eu-west-1', buffer: { recordLimit: 100 } }, bad: { name: 'b', region: 'eu-west-1', aws: { accessKey: 'AKIA1', secretKey: 's3cr3t' } } } } });
  const plan = streamPlan(config, { artifact: 'sluice', version: '0' });
  t.equal(plan.good.kinesis.credentials, null, 'default/iam/env: the AWS chain');
  t.same(plan.bad.kinesis.credentials, { accessKeyId: 'AKIA1', secretAccessKey: 's3cr3t' }, 'anything else: static keys');
  t.notOk(plan.bad.sameClient, 'different credentials: a client of its own');
  t.equal(plan.batchRecords, 100, 'the smaller recordLimit of the two streams');
  t.equal(plan.good.backoff.minMs, 500);
  const out = new PrometheusText();
  renderStreamMetrics(out, null);
  const text = out.toString();
  t.match(text, /^sluice_stream_checkpoint_segment -1$/m, 'before the first report: no checkpoint');
  t.match(text, /^sluice_stream_records_put_total\{stream="good"\} 0$/m);
  t.equal(startStreamSink(configFromObject({}).config, null as never, () => undefined), null, 'no streams block: no sink');
});
