/**
 * S3 for a tool run: the configured endpoint, or the embedded S3 when none is set (as the
 * collector does), and a bucket that must already exist: tools never create one. A missing bucket,
 * no permission or no answer is a CliError naming the bucket and the endpoint.
 */
import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SluiceConfig } from '../config/types';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from '../ship/embedded-s3';
import { ensureBucket, makeS3Client, type S3Settings } from '../ship/s3-target';
import { s3Settings } from '../ship/start-shipper';
import { CliError } from './cli-error';

export interface S3Session {
  client: S3Client;
  /** Settings with the endpoint actually used. */
  s3: S3Settings;
  close(): Promise<void>;
}

export async function openS3Session(config: SluiceConfig, tool: string): Promise<S3Session> {
  let s3 = s3Settings(config);
  let close = async (): Promise<void> => undefined;
  let embedded = false;
  if (s3.endpoint === null) {
    const server = await startEmbeddedS3(resolve(config.s3.embeddedDir), config.s3.embeddedPort);
    s3 = { ...s3, endpoint: server.endpoint, forcePathStyle: true };
    close = () => server.close();
    embedded = true;
  }
  const client = makeS3Client(s3, embedded && process.env['AWS_ACCESS_KEY_ID'] === undefined ? EMBEDDED_CREDENTIALS : undefined);
  try {
    await ensureBucket(client, s3.bucket, false);
  } catch (e) {
    await close();
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === 'NotFound') throw new CliError(`${tool}: bucket ${s3.bucket} does not exist at ${s3.endpoint}`);
    if (status === 403) throw new CliError(`${tool}: no permission on bucket ${s3.bucket} at ${s3.endpoint} (403)`);
    throw new CliError(`${tool}: S3 at ${s3.endpoint} does not answer for bucket ${s3.bucket}: ${(e as Error).message}`);
  }
  return { client, s3, close };
}
