/** The validated configuration, shaped as SCHEMA (schema.ts); durations in ms, sizes in bytes. */

export type SameSite = 'None' | 'Strict' | 'Lax';
export type Durability = 'fsync' | 'none';

export interface CookieConfig {
  enabled: boolean;
  expiration: number;
  name: string;
  domains: readonly string[];
  fallbackDomain: string | null;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
  clientCookieName: string | null;
}

export interface CollectorConfig {
  interface: string;
  port: number;
  paths: Readonly<Record<string, string>>;
  p3p: { enabled: boolean; policyRef: string; CP: string };
  crossDomain: { enabled: boolean; domains: readonly string[]; secure: boolean };
  cookie: CookieConfig;
  doNotTrackCookie: { enabled: boolean; name: string; value: string };
  cookieBounce: { enabled: boolean; name: string; fallbackNetworkUserId: string; forwardedProtocolHeader: string | null };
  enableDefaultRedirect: boolean;
  redirectDomains: readonly string[];
  rootResponse: { enabled: boolean; statusCode: number; headers: Readonly<Record<string, string>>; body: string };
  cors: { accessControlMaxAge: number };
  hsts: { enable: boolean; maxAge: number };
  networking: {
    maxConnections: number;
    idleTimeout: number;
    responseHeaderTimeout: number;
    bodyReadTimeout: number;
    maxRequestLineLength: number;
    maxHeadersLength: number;
    maxPayloadSize: number;
    dropPayloadSize: number;
  };
  preTerminationPeriod: number;
}

export interface WalConfig {
  dir: string;
  maxRecordBytes: number;
  segmentBytes: number;
  spareSegments: number;
  recycleSegments: number;
  maxSegmentAge: number;
  maxPendingRecords: number;
  maxUnshippedBytes: number;
  minFreeBytes: number;
  maxSyncLatency: number;
  /** Milliseconds a small group waits for company before its sync (GroupCommit). */
  commitDelay: number;
  /** A group of this many requests syncs at once. */
  commitGroup: number;
  /** A group of at most this many requests is synced on the event loop (0: never). */
  loopSyncGroup: number;
  /** Milliseconds: only while the previous sync took less. */
  loopSyncBelow: number;
  serializer: 'inline' | 'pool';
  serializerThreads: number;
  serializerBatch: number;
  serializerMaxQueuedJobs: number;
  shards: number;
  durability: Durability;
}

export interface ShipConfig {
  enabled: boolean;
  intervalSeconds: number;
  format: 'lzo' | 'gzip';
  keyTemplate: string;
  concurrency: number;
  readChunk: number;
  threadNiceness: number;
  maxAttempts: number;
  retryBaseDelay: number;
  retryMaxDelay: number;
  multipartThreshold: number;
  partSize: number;
  archiveDir: string | null;
  archiveRetention: number;
  maxLag: number;
  drainTimeout: number;
}

export interface S3Config {
  endpoint: string | null;
  useAws: boolean;
  bucket: string;
  prefix: string;
  badPrefix: string;
  region: string | null;
  forcePathStyle: boolean;
  createBucket: boolean;
  sse: 'none' | 'AES256' | 'aws:kms';
  kmsKeyId: string | null;
  storageClass: string | null;
  requestTimeout: number;
  embeddedDir: string;
  embeddedPort: number;
}

export interface AdminConfig {
  enabled: boolean;
  interface: string;
  port: number;
  allowedHosts: readonly string[];
  maxEventLoopDelay: number;
}

export interface SluiceConfig {
  collector: CollectorConfig;
  wal: WalConfig;
  ship: ShipConfig;
  s3: S3Config;
  admin: AdminConfig;
}
