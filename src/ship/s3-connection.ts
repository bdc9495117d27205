/**
 * A client for the configured S3, or for the embedded S3 (s3rver) when no endpoint is set:
 * the one way the shipper thread and the tools reach S3. With no AWS credentials in the
 * environment, the embedded S3's fixed credentials are used for it, and for any endpoint on
 * loopback (the embedded S3 of a running collector, reached by SLUICE_S3_ENDPOINT).
 */
import { connect } from 'node:net';
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

/**
 * What to do when the embedded S3's port is taken: the collector fails (two collectors would
 * share one store), a tool uses the S3 already there (the running collector's).
 */
export type EmbeddedPortTaken = 'fail' | 'use-running';

function hasEnvCredentials(): boolean {
  return process.env['AWS_ACCESS_KEY_ID'] !== undefined || process.env['AWS_PROFILE'] !== undefined;
}

/** True when something accepts connections on 127.0.0.1:`port` (within 1 s). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 1000);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export async function connectS3(settings: S3Settings, embeddedDir: string, embeddedPort: number, portTaken: EmbeddedPortTaken = 'fail'): Promise<S3Connection> {
  const credentials = hasEnvCredentials() ? undefined : EMBEDDED_CREDENTIALS;
  if (settings.endpoint !== null) {
    const local = isLoopback(settings.endpoint) ? credentials : undefined;
    return { client: makeS3Client(settings, local), s3: settings, embedded: false, close: async () => undefined };
  }
  let endpoint: string;
  let close = async (): Promise<void> => undefined;
  if (portTaken === 'use-running' && embeddedPort !== 0 && await listening(embeddedPort)) {
    endpoint = `http://127.0.0.1:${embeddedPort}`;
  } else {
    const server = await startEmbeddedS3(embeddedDir, embeddedPort);
    endpoint = server.endpoint;
    close = () => server.close();
  }
  const s3 = { ...settings, endpoint, forcePathStyle: true };
  return { client: makeS3Client(s3, credentials), s3, embedded: true, close };
}
