/**
 * The embedded S3 for running without a cloud account: s3rver (a real S3 HTTP server on the local
 * disk) on loopback, used when SLUICE_S3_ENDPOINT is unset.
 */
import { mkdirSync } from 'node:fs';

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startEmbeddedS3(dir: string, port: number): Promise<EmbeddedS3> {
  mkdirSync(dir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void> };
  const server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true });
  const addr = await server.run();
  return { endpoint: `http://127.0.0.1:${addr.port}`, close: () => server.close() };
}
