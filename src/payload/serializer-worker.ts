/** Piscina worker: a packed batch of RecordJobs in, a packed batch of records out (both transferred). */
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { packResults, unpackJobs } from './job-codec';
import { buildRecords, type RecordContext } from './record-job';

const ctx = workerData as RecordContext;

export default function serializeBatch(packed: Uint8Array): unknown {
  const jobs = unpackJobs(Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength));
  const out = packResults(jobs.map((job) => buildRecords(job, ctx)));
  return move(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
}
