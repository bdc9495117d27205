/** Piscina worker: a packed batch of RecordJobs in, a packed batch of records out (both transferred). */
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { packResults, unpackJobs } from './job-codec';
import { RecordEncoder } from './record-encoder';
import type { RecordContext } from './record-job';

const encoder = new RecordEncoder(workerData as RecordContext);

export default function serializeBatch(packed: Uint8Array): unknown {
  const jobs = unpackJobs(Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength));
  const out = packResults(jobs.map((job) => encoder.encode(job)));
  return move(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
}
