/**
 * SSC's `collector.streams` block comes in two forms and for several sinks; the schema reads one:
 * the 3.x Kinesis form (good { name, region, … } and bad { … }). This rewrites the 2.x form
 * (good = "name", bad = "name", a shared sink { } and buffer { }) into it, as SSC 3.x itself reads
 * both alike, and drops a block configuring a sink Sluice does not have, with a note.
 */
import type { SluiceConfig } from './types';

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys only other SSC sinks' stream settings have. */
const OTHER_SINK_KEYS: Readonly<Record<string, string>> = {
  brokers: 'Kafka', producerConf: 'Kafka', retries: 'Kafka',
  googleProjectId: 'Pub/Sub', gcpUserAgent: 'Pub/Sub',
  nsqdHost: 'NSQ', nsqdPort: 'NSQ',
  queueName: 'SQS',
};

/** 2.x `sink.enabled` values and the sink they name. */
const LEGACY_SINKS: Readonly<Record<string, string>> = {
  kinesis: 'Kinesis', 'google-pub-sub': 'Pub/Sub', kafka: 'Kafka', nsq: 'NSQ', sqs: 'SQS', stdout: 'stdout', rabbitmq: 'RabbitMQ',
};

function otherSinkOf(stream: unknown): string | null {
  if (!isObject(stream)) return null;
  for (const key of Object.keys(stream)) if (key in OTHER_SINK_KEYS) return OTHER_SINK_KEYS[key]!;
  return null;
}

/** Rewrites `raw.collector.streams` in place (a copy of the collector object); returns the document. */
export function normalizeStreamsBlock(raw: Raw, notes: string[]): Raw {
  const collector = raw['collector'];
  if (!isObject(collector) || !isObject(collector['streams'])) return raw;
  const streams = collector['streams'];
  const drop = (why: string): Raw => {
    const rest = { ...collector };
    delete rest['streams'];
    notes.push(`collector.streams is ignored: ${why}`);
    return { ...raw, collector: rest };
  };
  if (typeof streams['good'] === 'string' || isObject(streams['sink'])) {
    const sink = isObject(streams['sink']) ? streams['sink'] : {};
    const enabled = String(sink['enabled'] ?? 'kinesis').toLowerCase();
    if (enabled !== 'kinesis') return drop(`it configures SSC's ${LEGACY_SINKS[enabled] ?? enabled} sink; Sluice's stream sink is Kinesis (records still go to the WAL and S3)`);
    const shared: Raw = { ...sink };
    delete shared['enabled'];
    if (isObject(streams['buffer'])) shared['buffer'] = streams['buffer'];
    const legacy = (name: unknown): Raw => ({ ...shared, ...(name === undefined ? {} : { name }) });
    const out: Raw = { good: legacy(streams['good']), bad: legacy(streams['bad']) };
    if ('useIpAddressAsPartitionKey' in streams) out['useIpAddressAsPartitionKey'] = streams['useIpAddressAsPartitionKey'];
    for (const key of Object.keys(streams)) {
      if (!['good', 'bad', 'sink', 'buffer', 'useIpAddressAsPartitionKey'].includes(key)) out[key] = streams[key];
    }
    // SQS buffer names of the 2.x sink belong to one stream each.
    for (const [key, which] of [['sqsGoodBuffer', 'bad'], ['sqsBadBuffer', 'good']] as const) {
      const side = out[which];
      if (isObject(side)) delete side[key];
    }
    notes.push('collector.streams is in SSC 2.x form (good = "name", sink { }, buffer { }): read as 3.x good { } and bad { }');
    return { ...raw, collector: { ...collector, streams: out } };
  }
  const other = otherSinkOf(streams['good']) ?? otherSinkOf(streams['bad']);
  if (other !== null) return drop(`it configures SSC's ${other} sink; Sluice's stream sink is Kinesis (records still go to the WAL and S3)`);
  return raw;
}

/** True when the stream sink runs: stream.enabled on, or auto with a good stream named. */
export function streamSinkEnabled(c: SluiceConfig): boolean {
  return c.stream.enabled === 'on' || (c.stream.enabled === 'auto' && c.collector.streams.good.name !== null);
}

/**
 * The record size at which requests are split or become size_violation rows: wal.maxRecordBytes,
 * and with the stream sink on, the good stream's maxBytes when smaller (as SSC splits for its sink).
 */
export function effectiveMaxRecordBytes(c: SluiceConfig): number {
  return streamSinkEnabled(c) ? Math.min(c.wal.maxRecordBytes, c.collector.streams.good.maxBytes) : c.wal.maxRecordBytes;
}
