/**
 * The spare thread: prepares spare files on request (spare-file.ts), answering once per request.
 * A failure leaves no file behind under either name.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { type PrepareRequest, prepareSpareSync } from './spare-file';

export type FillRequest = PrepareRequest & { id: number };
export type FillResult = { id: number; ok: true } | { id: number; ok: false; code: string | null; message: string };
export interface SpareWorkerData {
  /** The pace (KiB/s) shared with the WAL: an Int32Array of one element. */
  pace: SharedArrayBuffer;
}

const port = parentPort;
if (port !== null) {
  const pace = new Int32Array((workerData as SpareWorkerData).pace);
  port.on('message', (m: FillRequest) => {
    let result: FillResult;
    try {
      prepareSpareSync(fs, m, pace);
      result = { id: m.id, ok: true };
    } catch (e) {
      try {
        fs.rmSync(m.path, { force: true });
        fs.rmSync(m.finalPath, { force: true });
      } catch { /* best effort: recovery removes leftovers */ }
      const err = e as NodeJS.ErrnoException;
      result = { id: m.id, ok: false, code: typeof err.code === 'string' ? err.code : null, message: String(err.message) };
    }
    port.postMessage(result);
  });
}
