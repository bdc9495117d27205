/**
 * S3 for a tool run: the configured endpoint, or the embedded S3 when none is set (as the
 * collector does), and a bucket that must already exist: tools never create one. A missing bucket,
 * no permission or no answer is a CliError naming the bucket and the endpoint.
 */
import { resolve } from 'node:path';
import type { SluiceConfig } from '../config/types';
import { connectS3, type S3Connection } from '../ship/s3-connection';
import { ensureBucket } from '../ship/s3-target';
import { s3Settings } from '../ship/start-shipper';
import { CliError } from './cli-error';

export async function openS3Session(config: SluiceConfig, tool: string): Promise<S3Connection> {
  // The embedded S3's port taken: a collector runs with it on this machine; use that one.
  const conn = await connectS3(s3Settings(config), resolve(config.s3.embeddedDir), config.s3.embeddedPort, 'use-running');
  const { client, s3 } = conn;
  try {
    await ensureBucket(client, s3.bucket, false);
  } catch (e) {
    await conn.close();
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === 'NotFound') throw new CliError(`${tool}: bucket ${s3.bucket} does not exist at ${s3.endpoint}`);
    if (status === 403) throw new CliError(`${tool}: no permission on bucket ${s3.bucket} at ${s3.endpoint} (403)`);
    throw new CliError(`${tool}: S3 at ${s3.endpoint} does not answer for bucket ${s3.bucket}: ${(e as Error).message}`);
  }
  return conn;
}
