/**
 * The stream sink's thread: its own event loop, so encoding PutRecords calls and waiting for
 * Kinesis never moves HTTP latency. Checks that both streams exist, then follows the WAL: the
 * durable mark after each sync (a shared buffer, durable-mark.ts) and sealed segments (messages),
 * puts records, checkpoints, and tells the main thread which segments it is past.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { DurableMarkReader } from './durable-mark';
import type { StreamClient } from './kinesis-client';
import { StreamCheckpoint } from './stream-checkpoint';
import { StreamSender } from './stream-sender';
import { senderOptions, streamClients } from './stream-settings';
import type { FromStream, StreamStats, StreamWorkerData, ToStream } from './stream-protocol';
import { WalTail } from './wal-tail';

const port = parentPort!;
const d = workerData as StreamWorkerData;
const send = (m: FromStream): void => port.postMessage(m);

const STATS_MS = 500;
const MARK_WAIT_MS = 250;

async function waitForStreams(clients: Record<'good' | 'bad', StreamClient>, state: { problem: string | null; stopping: boolean }, report: () => void): Promise<void> {
  for (;;) {
    const problems = [await clients.good.check(d.good.stream), await clients.bad.check(d.bad.stream)].filter((p): p is string => p !== null);
    state.problem = problems.length === 0 ? null : problems.join('; ');
    if (state.problem === null || state.stopping) return;
    report();
    await new Promise((r) => setTimeout(r, d.startupCheckIntervalMs));
  }
}

async function main(): Promise<void> {
  const checkpoint = StreamCheckpoint.inWal(d.walDir, d.instanceId);
  if (checkpoint.discarded !== null) send({ type: 'log', level: 'warn', obj: { why: checkpoint.discarded }, msg: 'stream checkpoint not used: starting from the oldest segment in the WAL' });
  const tail = new WalTail(d.walDir, d.readChunkBytes, checkpoint.confirmed);
  for (const s of d.sealed) tail.addSealed(s.seq, s.bytes);
  tail.setOpen(d.open.seq, d.open.durableBytes);
  const { clients, close: closeClients } = streamClients(d);
  const sender = new StreamSender(tail, checkpoint, clients, senderOptions(d), (seq) => send({ type: 'released', seq }), checkpoint.sentBefore);
  for (const s of d.sealed) sender.lag.durableAt({ seq: s.seq, offset: s.bytes }, s.firstMs);
  if (d.open.durableBytes > 0) sender.lag.durableAt({ seq: d.open.seq, offset: d.open.durableBytes }, Date.now());
  for (const seq of tail.takeSkipped()) send({ type: 'released', seq });

  const state = { problem: null as string | null, stopping: false, ready: false };
  const stats = (): StreamStats => ({
    ...sender.stats, ready: state.ready, streamProblem: state.problem, lagMs: sender.lag.lagMs(Date.now()), lagBytes: tail.unreadBytes(),
  });
  const statsTimer = setInterval(() => send({ type: 'stats', stats: stats() }), STATS_MS);
  send({ type: 'stats', stats: stats() });

  port.on('message', (m: ToStream) => {
    if (m.type === 'sealed') {
      tail.addSealed(m.seq, m.bytes);
      sender.lag.durableAt({ seq: m.seq, offset: m.bytes }, Date.now());
      if (state.ready) sender.pump();
    } else if (m.type === 'drain') {
      void sender.whenIdle().then(() => send({ type: 'drained', stats: stats() }));
    } else {
      state.stopping = true;
      sender.stop();
      clearInterval(statsTimer);
      checkpoint.close();
      closeClients();
      send({ type: 'stopped', stats: stats() });
      port.close();
    }
  });

  await waitForStreams(clients, state, () => send({ type: 'stats', stats: stats() }));
  if (state.stopping) return;
  state.ready = true;
  send({ type: 'stats', stats: stats() });
  const marks = new DurableMarkReader(d.mark);
  let seen = -1;
  while (!state.stopping) {
    const m = marks.read();
    if (m.version !== seen) {
      seen = m.version;
      if (m.seq >= 0) {
        tail.setOpen(m.seq, m.bytes);
        sender.lag.durableAt({ seq: m.seq, offset: m.bytes }, Date.now());
      }
    }
    sender.pump();
    await marks.changed(seen, MARK_WAIT_MS);
  }
}

main().catch((e: unknown) => send({ type: 'fatal', message: (e as Error).message }));
