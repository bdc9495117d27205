/** A real S3 for tests: s3rver over HTTP on loopback, and a client to read back what was shipped. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsCommand, S3Client, type _Object } from '@aws-sdk/client-s3';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export const BUCKET = 'sluice-test';
export const S3_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

interface S3rverInstance { run(): Promise<{ port: number }>; close(): Promise<void> }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: Record<string, unknown>) => S3rverInstance;

export interface TestS3 {
  endpoint: string;
  port: number;
  dir: string;
  client: S3Client;
  /** Every object (ListObjects v1, paged). */
  list(prefix?: string): Promise<_Object[]>;
  get(key: string): Promise<Buffer>;
  stop(): Promise<void>;
  /** Starts again on the same port and directory (after stop). */
  restart(): Promise<void>;
}

export async function startS3(port = 0, dir = mkdtempSync(join(tmpdir(), 'sluice-s3-'))): Promise<TestS3> {
  let server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true });
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const s3: TestS3 = {
    endpoint, port: addr.port, dir, client,
    async list(prefix?: string) {
      const out: _Object[] = [];
      let marker: string | undefined;
      for (;;) {
        const r = await client.send(new ListObjectsCommand({ Bucket: BUCKET, Marker: marker, ...(prefix === undefined ? {} : { Prefix: prefix }) }));
        out.push(...(r.Contents ?? []));
        if (!r.IsTruncated || r.Contents === undefined || r.Contents.length === 0) break;
        marker = r.Contents[r.Contents.length - 1]!.Key;
      }
      return out;
    },
    async get(key: string) {
      // s3rver on a loaded machine sometimes cuts a large response: read again (3 tries).
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
          return Buffer.from(await r.Body!.transformToByteArray());
        } catch (e) {
          if (attempt >= 3) throw e;
        }
      }
    },
    stop: () => server.close(),
    async restart() {
      server = new S3rver({ address: '127.0.0.1', port: addr.port, directory: dir, silent: true });
      await server.run();
    },
  };
  return s3;
}

/** Environment for a Sluice server that ships to `s3` quickly. */
export function shipEnv(s3: { endpoint: string }, intervalSeconds = 2): Record<string, string> {
  return { ...S3_ENV, SLUICE_S3_ENDPOINT: s3.endpoint, SLUICE_S3_BUCKET: BUCKET, SLUICE_SHIP_INTERVAL_S: String(intervalSeconds) };
}

export { waitFor } from './wait';
