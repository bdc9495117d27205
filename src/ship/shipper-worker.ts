/**
 * The shipper's thread: its own event loop, so building LZO files and talking to S3 never moves
 * HTTP latency. Starts the embedded S3 when no endpoint is configured, checks the bucket, then
 * ships what the main thread sends and reports back.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Outbox } from './outbox';
import { connectS3 } from './s3-connection';
import { ensureBucket } from './s3-target';
import { Shipper } from './shipper';
import { type SegmentRef, type ShipPlan } from './ship-plan';

export interface ShipperWorkerData extends ShipPlan {
  /** Bytes reserved per outbox slot (slotBytes of wal.segmentBytes). */
  outboxSlotBytes: number;
  /** Nice value of the shipper thread (0..19). */
  niceness: number;
  createBucket: boolean;
  embeddedDir: string;
  embeddedPort: number;
}

export type ToShipper =
  | { type: 'segment'; seg: SegmentRef }
  | { type: 'drain'; ms: number }
  | { type: 'stop' };

export type FromShipper =
  | { type: 'ready'; endpoint: string | null }
  | { type: 'startFailed'; error: string }
  | { type: 'shipped'; instanceId: string; seq: number; keys: string[]; records: number; bytes: number; ms: number }
  | { type: 'stats'; stats: Shipper['stats'] }
  | { type: 'drained'; idle: boolean }
  | { type: 'log'; level: 'info' | 'warn'; obj: object; msg: string }
  | { type: 'stopped' };

const port = parentPort!;
const d = workerData as ShipperWorkerData;
const send = (m: FromShipper): void => port.postMessage(m);
const log = {
  info: (obj: object, msg: string): void => send({ type: 'log', level: 'info', obj, msg }),
  warn: (obj: object, msg: string): void => send({ type: 'log', level: 'warn', obj, msg }),
};

/** The reserved outbox; plain files (with a warning) when the reservation does not fit at start. */
function openOutbox(p: ShipperWorkerData): Outbox {
  try {
    return new Outbox(p.outDir, p.concurrency, p.outboxSlotBytes);
  } catch (e) {
    log.warn({ dir: p.outDir, bytes: p.outboxSlotBytes * p.concurrency, err: (e as Error).message }, 'cannot reserve the outbox: shipping needs free space on the WAL volume until a restart reserves it');
    return new Outbox(p.outDir, p.concurrency, 0);
  }
}

async function main(): Promise<void> {
  // On Linux setpriority(PRIO_PROCESS, 0) applies to the calling thread only: this lowers the
  // shipper thread (LZO, MD5, file building) below the HTTP thread when they share cores.
  try {
    setPriority(d.niceness);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'cannot lower the shipper thread priority');
  }
  const conn = await connectS3(d.s3, d.embeddedDir, d.embeddedPort);
  const { client, s3 } = conn;
  const pending: SegmentRef[] = [];
  let shipper: Shipper | null = null;
  port.on('message', (m: ToShipper) => {
    if (m.type === 'segment') {
      if (shipper === null) pending.push(m.seg); else shipper.enqueue(m.seg);
    } else if (m.type === 'drain') {
      void (shipper === null ? Promise.resolve(false) : shipper.waitIdle(m.ms)).then((idle) => send({ type: 'drained', idle }));
    } else if (m.type === 'stop') {
      shipper?.stop();
      void conn.close().finally(() => {
        send({ type: 'stopped' });
        port.close();
      });
    }
  });
  // The bucket check is retried like an upload: S3 may be down at start.
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureBucket(client, s3.bucket, d.createBucket);
      break;
    } catch (e) {
      const delay = Math.min(d.retry.maxDelayMs, d.retry.baseDelayMs * 2 ** Math.min(attempt, 20));
      log.warn({ bucket: s3.bucket, endpoint: s3.endpoint, err: (e as Error).message, retryInMs: delay }, 'S3 bucket not reachable');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  shipper = new Shipper({ ...d, s3, client, log, outbox: openOutbox(d), onShipped: (info) => send({ type: 'shipped', ...info }) });
  for (const seg of pending) shipper.enqueue(seg);
  const s = shipper;
  setInterval(() => send({ type: 'stats', stats: { ...s.stats } }), 1000).unref();
  send({ type: 'ready', endpoint: s3.endpoint });
}

process.on('uncaughtException', (e) => send({ type: 'startFailed', error: e.message }));
main().catch((e: unknown) => send({ type: 'startFailed', error: (e as Error).message }));
