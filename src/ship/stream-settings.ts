/** The stream thread's settings from the configuration (collector.streams and stream). */
import { resolve } from 'node:path';
import type { SluiceConfig } from '../config/types';
import type { Processor } from '../payload/bad-row';
import { KinesisStreamClient, type KinesisSettings, type StreamClient } from './kinesis-client';
import type { SenderOptions, StreamSide } from './stream-sender';
import type { StreamSideData, StreamWorkerData } from './stream-protocol';

/** SSC's aws.accessKey/secretKey values that mean the standard credential chain. */
const CHAIN = new Set(['default', 'iam', 'env']);

type StreamsConfig = SluiceConfig['collector']['streams'];
type SideConfig = StreamsConfig['good'];

function kinesisSettings(side: SideConfig, requestTimeoutMs: number): KinesisSettings {
  const region = side.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const { accessKey, secretKey } = side.aws;
  const credentials = CHAIN.has(accessKey) && CHAIN.has(secretKey) ? null : { accessKeyId: accessKey, secretAccessKey: secretKey };
  return { endpoint: side.customEndpoint, region, credentials, requestTimeoutMs };
}

function sideData(side: SideConfig, requestTimeoutMs: number, sameClient: boolean): StreamSideData {
  if (side.name === null) throw new Error('stream name missing (the configuration check requires it)');
  const b = side.backoffPolicy;
  return { stream: side.name, kinesis: kinesisSettings(side, requestTimeoutMs), backoff: { minMs: b.minBackoff, maxMs: b.maxBackoff, maxRetries: b.maxRetries }, sameClient };
}

/** Everything but the WAL's own part (its instance, segments and durable mark), which the thread adds. */
export type StreamPlan = Omit<StreamWorkerData, 'instanceId' | 'mark' | 'sealed' | 'open'>;

/** `processor`: the artifact and version named in the bad rows the sink makes. */
export function streamPlan(config: SluiceConfig, processor: Processor): StreamPlan {
  const s = config.collector.streams;
  const t = config.stream.requestTimeoutMs;
  const good = sideData(s.good, t, false);
  const badSettings = kinesisSettings(s.bad, t);
  const same = JSON.stringify(badSettings) === JSON.stringify(good.kinesis);
  return {
    walDir: resolve(config.wal.dir),
    readChunkBytes: config.stream.readChunkBytes,
    good,
    bad: sideData(s.bad, t, same),
    batchRecords: Math.min(s.good.buffer.recordLimit, s.bad.buffer.recordLimit),
    batchBytes: Math.min(s.good.buffer.byteLimit, s.bad.buffer.byteLimit),
    maxInFlightBatches: config.stream.maxInFlightBatches,
    startupCheckIntervalMs: s.good.startupCheckInterval,
    rules: { goodMaxBytes: s.good.maxBytes, ipAsPartitionKey: s.useIpAddressAsPartitionKey, processor },
  };
}

/** The sender's options from the plan: the stream thread and `sluice replay` read the same. */
export function senderOptions(plan: StreamPlan): SenderOptions {
  return {
    goodStream: plan.good.stream, badStream: plan.bad.stream, batchRecords: plan.batchRecords, batchBytes: plan.batchBytes,
    maxInFlightBatches: plan.maxInFlightBatches, backoff: { good: plan.good.backoff, bad: plan.bad.backoff }, rules: plan.rules,
  };
}

/** The two streams' clients: one shared when the bad stream has the good one's endpoint, region and keys. */
export function streamClients(plan: StreamPlan): { clients: Readonly<Record<StreamSide, StreamClient>>; close(): void } {
  const good = new KinesisStreamClient(plan.good.kinesis);
  const bad = plan.bad.sameClient ? good : new KinesisStreamClient(plan.bad.kinesis);
  return {
    clients: { good, bad },
    close: () => {
      good.close();
      if (bad !== good) bad.close();
    },
  };
}
