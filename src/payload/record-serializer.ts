/**
 * Turns RecordJobs into records, inline on the main thread or in a piscina worker pool. The pool
 * gathers jobs for the rest of the current event-loop turn (no timer) or until `batch` jobs, packs
 * them into one buffer transferred to a worker, and gets one buffer of records back.
 */
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { packJobs, unpackResults } from './job-codec';
import { RecordEncoder } from './record-encoder';
import type { RecordContext, RecordJob } from './record-job';
import type { Serialized } from './split-batch';

export interface SerializeWaiter {
  onSerialized(records: Serialized | null, err: Error | null): void;
}

export interface RecordSerializer {
  /** False when the serializer's queue bound is reached (the caller answers 503). */
  serialize(job: RecordJob, waiter: SerializeWaiter): boolean;
  close(): Promise<void>;
}

export class InlineSerializer implements RecordSerializer {
  private readonly encoder: RecordEncoder;

  constructor(ctx: RecordContext) {
    this.encoder = new RecordEncoder(ctx);
  }

  serialize(job: RecordJob, waiter: SerializeWaiter): boolean {
    let records: Serialized;
    try {
      records = this.encoder.encode(job);
    } catch (e) {
      waiter.onSerialized(null, e as Error);
      return true;
    }
    waiter.onSerialized(records, null);
    return true;
  }

  async close(): Promise<void> {
    // nothing to release
  }
}

export interface PoolOptions {
  threads: number;
  /** Jobs per batch at most. */
  batch: number;
  /** Jobs queued or in workers at most. */
  maxQueuedJobs: number;
}

export class PoolSerializer implements RecordSerializer {
  private readonly pool: Piscina;
  private jobs: RecordJob[] = [];
  private waiters: SerializeWaiter[] = [];
  private scheduled = false;
  private queued = 0;

  constructor(ctx: RecordContext, private readonly opts: PoolOptions) {
    this.pool = new Piscina({
      filename: join(__dirname, 'serializer-worker.js'),
      workerData: ctx,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      maxQueue: Math.max(1, Math.ceil(opts.maxQueuedJobs / opts.batch)),
      concurrentTasksPerWorker: 1,
    });
  }

  serialize(job: RecordJob, waiter: SerializeWaiter): boolean {
    if (this.queued >= this.opts.maxQueuedJobs) return false;
    this.queued++;
    this.jobs.push(job);
    this.waiters.push(waiter);
    if (this.jobs.length >= this.opts.batch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    return true;
  }

  private flush(): void {
    if (this.jobs.length === 0) return;
    const jobs = this.jobs;
    const waiters = this.waiters;
    this.jobs = [];
    this.waiters = [];
    const packed = packJobs(jobs);
    const done = (err: Error | null, results: Serialized[] | null): void => {
      this.queued -= waiters.length;
      for (let i = 0; i < waiters.length; i++) waiters[i]!.onSerialized(results === null ? null : results[i]!, err);
    };
    this.pool.run(packed, { transferList: [packed.buffer as ArrayBuffer] }).then(
      (out: Uint8Array) => done(null, unpackResults(Buffer.from(out.buffer, out.byteOffset, out.byteLength))),
      (err: Error) => done(err, null),
    );
  }

  async close(): Promise<void> {
    this.flush();
    await this.pool.close();
  }
}
