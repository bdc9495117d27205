/**
 * The stream half of `sluice replay`: puts a recovered WAL's records into the Kinesis streams of
 * collector.streams, from the WAL's own stream checkpoint, so what the dead instance's sink had
 * confirmed is not sent again (only what it had in flight may be). Runs on the tool's thread; a
 * stream that keeps failing (backoffPolicy.maxRetries in a row) ends the run with an error and
 * every segment kept.
 */
import type { SluiceConfig } from '../config/types';
import { StreamCheckpoint } from '../ship/stream-checkpoint';
import { StreamSender } from '../ship/stream-sender';
import { senderOptions, streamClients, streamPlan } from '../ship/stream-settings';
import { WalTail } from '../ship/wal-tail';
import type { SealedSegment } from '../wal/recovery';
import { ARTIFACT, VERSION } from '../ops/version';
import { CliError } from './cli-error';

export interface StreamReplayResult {
  recordsPut: number;
  resent: number;
  from: string;
}

const POLL_MS = 200;

export async function replayIntoStream(config: SluiceConfig, dir: string, instanceId: string, sealed: readonly SealedSegment[]): Promise<StreamReplayResult> {
  const plan = streamPlan(config, { artifact: ARTIFACT, version: VERSION });
  const { clients, close: closeClients } = streamClients(plan);
  const checkpoint = StreamCheckpoint.inWal(dir, instanceId);
  const tail = new WalTail(dir, plan.readChunkBytes, checkpoint.confirmed);
  try {
    for (const stream of [plan.good.stream, plan.bad.stream]) {
      const problem = await (stream === plan.good.stream ? clients.good : clients.bad).check(stream);
      if (problem !== null) throw new CliError(`replay: ${problem} (segments stay in the WAL)`);
    }
    for (const s of sealed) tail.addSealed(s.seq, s.bytes);
    tail.takeSkipped();
    const sender = new StreamSender(tail, checkpoint, clients, senderOptions(plan), () => undefined, checkpoint.sentBefore);
    const from = checkpoint.confirmed === null ? 'the oldest segment' : `segment ${checkpoint.confirmed.seq} offset ${checkpoint.confirmed.offset}`;
    try {
      const idle = sender.whenIdle().then(() => true);
      while (!(await Promise.race([idle, new Promise<boolean>((r) => setTimeout(() => r(false), POLL_MS))]))) {
        if (sender.stats.failing) throw new CliError(`replay: the stream is not taking records: ${sender.stats.lastError ?? 'puts failing'} (segments stay in the WAL; run again once it does)`);
      }
    } finally {
      sender.stop();
    }
    return { recordsPut: sender.stats.recordsPut.good + sender.stats.recordsPut.bad, resent: sender.stats.resent, from };
  } finally {
    tail.close();
    checkpoint.close();
    closeClients();
  }
}
