/**
 * The embedded S3 for running without a cloud account: s3rver (a real S3 HTTP server on the local
 * disk) on loopback, used when SLUICE_S3_ENDPOINT is unset.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Rejects with EADDRINUSE when the port is taken: s3rver itself would throw it from an event, uncaught. */
function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => reject(Object.assign(new Error(`the embedded S3's port 127.0.0.1:${port} is taken (${e.code ?? e.message})`), { code: e.code })));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

export async function startEmbeddedS3(dir: string, port: number): Promise<EmbeddedS3> {
  mkdirSync(dir, { recursive: true });
  if (port !== 0) await checkPortFree(port);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void> };
  const server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true });
  const addr = await server.run();
  return { endpoint: `http://127.0.0.1:${addr.port}`, close: () => server.close() };
}
