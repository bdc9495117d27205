/** Starts the stream sink beside the WAL it reads, when the configuration turns it on. */
import { resolve } from 'node:path';
import { streamSinkEnabled } from '../config/streams-block';
import type { SluiceConfig } from '../config/types';
import { logger } from '../ops/logger';
import { ARTIFACT, VERSION } from '../ops/version';
import { streamPlan } from '../ship/stream-settings';
import { StreamThread } from '../ship/stream-thread';
import { LocalShards, type ShardSet } from './shard-set';

export function startStreamSink(config: SluiceConfig, set: ShardSet, onFatal: (why: string) => void): StreamThread | null {
  if (!streamSinkEnabled(config)) return null;
  // The configuration check refuses the sink with several shards (load.ts).
  if (!(set instanceof LocalShards)) throw new Error('the stream sink needs wal.shards = 1');
  const archiveDir = config.ship.archiveDir === null ? null : resolve(config.ship.archiveDir);
  const plan = streamPlan(config, { artifact: ARTIFACT, version: VERSION });
  const thread = new StreamThread(set.shard.wal, plan, archiveDir, config.stream.maxLagMs, logger, onFatal);
  logger.info({ good: plan.good.stream, bad: plan.bad.stream, endpoint: plan.good.kinesis.endpoint, region: plan.good.kinesis.region }, 'stream sink started');
  return thread;
}
