/**
 * The S3 side of shipping: a client built from Sluice's settings and the standard AWS chain,
 * uploads that are verified (size and ETag = MD5 of what was sent, multipart included), and
 * retries with exponential backoff and full jitter under explicit bounds.
 */
import { createHash } from 'node:crypto';
import { quietSdkNodeNotice } from './sdk-notice';
import { closeSync, createReadStream, openSync, readSync, writeSync } from 'node:fs';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ERROR_CODES, SluiceError } from '../config/errors';
import type { LocalFile } from './segment-files';

export interface S3Settings {
  endpoint: string | null;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  sse: 'none' | 'AES256' | 'aws:kms';
  kmsKeyId: string | null;
  storageClass: string | null;
  multipartThreshold: number;
  partSize: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function makeS3Client(s: S3Settings, credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  quietSdkNodeNotice();
  return new S3Client({
    region: s.region,
    ...(s.endpoint === null ? {} : { endpoint: s.endpoint }),
    forcePathStyle: s.forcePathStyle,
    ...(credentials === undefined ? {} : { credentials }),
    // Sluice's own retry loop is the only one (explicit bounds); integrity is checked by ETag.
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { requestTimeout: s.requestTimeoutMs, connectionTimeout: Math.min(s.requestTimeoutMs, 10_000) },
  });
}

/** Checks the bucket answers; creates it when absent and allowed. */
export async function ensureBucket(client: S3Client, bucket: string, create: boolean): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((status === 404 || (e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchBucket') && create) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return;
    }
    throw e;
  }
}

/** The bytes of a built file (its range of the file it is in). */
export function readLocalFile(file: LocalFile): Buffer {
  const fd = openSync(file.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(file.bytes);
    let got = 0;
    while (got < file.bytes) {
      const n = readSync(fd, buf, got, file.bytes - got, file.offset + got);
      if (n === 0) throw new Error(`${file.path}: ended at ${file.offset + got}, ${file.bytes - got} bytes short`);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Copies a built file's range to `dest` through one buffer of `chunkBytes`, not whole in memory. */
export function copyLocalFile(file: LocalFile, dest: string, chunkBytes = 1024 * 1024): void {
  const from = openSync(file.path, 'r');
  const to = openSync(dest, 'w');
  try {
    const buf = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, file.bytes)));
    for (let pos = 0; pos < file.bytes;) {
      const n = readSync(from, buf, 0, Math.min(buf.length, file.bytes - pos), file.offset + pos);
      if (n === 0) throw new Error(`${file.path}: ended at ${file.offset + pos}, ${file.bytes - pos} bytes short`);
      for (let w = 0; w < n;) w += writeSync(to, buf, w, n - w);
      pos += n;
    }
  } finally {
    closeSync(to);
    closeSync(from);
  }
}

/** The ETag S3 gives a multipart upload of `file` in parts of `partSize`. */
export function multipartEtag(file: LocalFile, partSize: number): string {
  const { bytes } = file;
  const fd = openSync(file.path, 'r');
  const buf = Buffer.allocUnsafe(partSize);
  const digests: Buffer[] = [];
  try {
    for (let pos = 0; pos < bytes; pos += partSize) {
      const n = readSync(fd, buf, 0, Math.min(partSize, bytes - pos), file.offset + pos);
      digests.push(createHash('md5').update(buf.subarray(0, n)).digest());
    }
  } finally {
    closeSync(fd);
  }
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
}

export class UploadVerificationError extends SluiceError {
  constructor(message: string) {
    super(ERROR_CODES.uploadVerify, message);
  }
}

/** One verified upload attempt of `file` to `key`. */
export async function uploadFile(client: S3Client, s: S3Settings, key: string, file: LocalFile, contentType: string): Promise<void> {
  const params: PutObjectCommandInput = {
    Bucket: s.bucket,
    Key: key,
    ContentType: contentType,
    ...(s.sse === 'none' ? {} : { ServerSideEncryption: s.sse }),
    ...(s.sse === 'aws:kms' && s.kmsKeyId !== null ? { SSEKMSKeyId: s.kmsKeyId } : {}),
    ...(s.storageClass === null ? {} : { StorageClass: s.storageClass as PutObjectCommandInput['StorageClass'] }),
  };
  // Accepted ETags: the MD5 of the bytes (single PUT; also what some S3-compatible servers give a
  // multipart object) or AWS's multipart form md5(part md5s)-N. With SSE-KMS, AWS ETags are not
  // an MD5 at all: there the size is compared, and S3 itself checked Content-MD5 on single PUTs.
  const accepted = new Set<string>([file.md5]);
  if (file.bytes <= s.multipartThreshold) {
    const body = readLocalFile(file);
    await client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length, ContentMD5: Buffer.from(file.md5, 'hex').toString('base64') }));
  } else {
    const body = createReadStream(file.path, { start: file.offset, end: file.offset + file.bytes - 1 });
    const upload = new Upload({ client, params: { ...params, Body: body }, partSize: s.partSize, queueSize: 2, leavePartsOnError: false });
    await upload.done();
    accepted.add(multipartEtag(file, s.partSize));
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
  const etag = (head.ETag ?? '').replace(/"/g, '');
  const etagOk = s.sse === 'aws:kms' || accepted.has(etag);
  if (head.ContentLength !== file.bytes || !etagOk) {
    throw new UploadVerificationError(`s3://${s.bucket}/${key}: stored ${head.ContentLength} bytes ETag ${etag}, sent ${file.bytes} bytes ETag ${[...accepted].join(' or ')}`);
  }
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(Math.random() * cap);
}

export async function withRetries<T>(what: string, policy: RetryPolicy, fn: () => Promise<T>, onRetry: (attempt: number, err: Error, delayMs: number) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt + 1 >= policy.maxAttempts) throw new Error(`${what}: ${policy.maxAttempts} attempts failed; last: ${(e as Error).message}`);
      const delay = backoffDelay(policy, attempt);
      onRetry(attempt + 1, e as Error, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
