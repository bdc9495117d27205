/**
 * A client for the configured S3, or for the embedded S3 (s3rver) when no endpoint is set:
 * the one way the shipper thread and the tools reach S3. With the embedded S3 and no AWS
 * credentials in the environment, its fixed credentials are used.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from './embedded-s3';
import { makeS3Client, type S3Settings } from './s3-target';

export interface S3Connection {
  client: S3Client;
  /** Settings with the endpoint actually used. */
  s3: S3Settings;
  embedded: boolean;
  /** Stops the embedded S3, if one was started. */
  close(): Promise<void>;
}

export async function connectS3(settings: S3Settings, embeddedDir: string, embeddedPort: number): Promise<S3Connection> {
  if (settings.endpoint !== null) {
    return { client: makeS3Client(settings), s3: settings, embedded: false, close: async () => undefined };
  }
  const server = await startEmbeddedS3(embeddedDir, embeddedPort);
  const s3 = { ...settings, endpoint: server.endpoint, forcePathStyle: true };
  const hasEnvCredentials = process.env['AWS_ACCESS_KEY_ID'] !== undefined || process.env['AWS_PROFILE'] !== undefined;
  return { client: makeS3Client(s3, hasEnvCredentials ? undefined : EMBEDDED_CREDENTIALS), s3, embedded: true, close: () => server.close() };
}
