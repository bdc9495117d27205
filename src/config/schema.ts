import { DEFAULT_KEY_TEMPLATE } from './key-template';
/**
 * The configuration schema: every key Sluice reads, with its type, default, bounds,
 * environment override and meaning. The loader validates against it and the
 * configuration document is generated from it, so this table is the single source.
 *
 * Collector behaviour keys keep the Scala Stream Collector's names inside `collector { }`;
 * Sluice's own sections (`wal`, ...) sit beside it at the top level.
 */

export type Leaf =
  | { kind: 'int'; default: number; min: number; max: number; env?: string; doc: string }
  | { kind: 'size'; default: number; min: number; max: number; env?: string; was?: string; doc: string }
  | { kind: 'duration'; default: number; min: number; max: number; env?: string; was?: string; doc: string }
  | { kind: 'bool'; default: boolean; env?: string; doc: string }
  | { kind: 'string'; default: string | null; pattern?: RegExp; env?: string; doc: string }
  | { kind: 'enum'; default: string; values: readonly string[]; env?: string; doc: string }
  | { kind: 'stringList'; default: readonly string[]; maxItems: number; itemPattern?: RegExp; env?: string; doc: string }
  | { kind: 'stringMap'; default: Readonly<Record<string, string>>; maxItems: number; doc: string }
  /** An SSC key Sluice accepts and does not use (the reason is logged at start). */
  | { kind: 'ignored'; doc: string }
  /** An SSC section Sluice accepts only while it stays disabled (`flag` false). */
  | { kind: 'refusedIfEnabled'; flag: string; doc: string };

export interface Section<F extends Readonly<Record<string, Node>> = Readonly<Record<string, Node>>> { kind: 'section'; doc: string; fields: F }
export type Node = Leaf | Section;

/** The value a leaf gives the configuration (sizes in bytes, durations in ms). */
type LeafValue<L> =
  L extends { kind: 'int' | 'size' | 'duration' } ? number
    : L extends { kind: 'bool' } ? boolean
      : L extends { kind: 'string'; default: null } ? string | null
        : L extends { kind: 'string' } ? string
          : L extends { kind: 'enum'; values: readonly (infer V)[] } ? V
            : L extends { kind: 'stringList' } ? readonly string[]
              : L extends { kind: 'stringMap' } ? Readonly<Record<string, string>>
                : never;

/** Keys that carry a value: SSC keys Sluice accepts and ignores have none. */
type ValueKeys<F> = { [K in keyof F]: F[K] extends { kind: 'ignored' | 'refusedIfEnabled' } ? never : K }[keyof F];

/**
 * The configuration a node of the schema gives: an object for a section (its value keys), the
 * leaf's value type otherwise. SluiceConfig is this of SCHEMA: the schema is the one source.
 */
export type ValueOf<N> = N extends Section<infer F> ? { [K in ValueKeys<F>]: ValueOf<F[K]> } : LeafValue<N>;

const DAY = 86_400_000;
const MiB = 1024 * 1024;
const HOSTNAME = /^[A-Za-z0-9.-]+$/;
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 6265 token
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/; // RFC 6265 cookie-octet

/** A section; `const` keeps each leaf's literal kind, default and values for ValueOf. */
function section<const F extends Readonly<Record<string, Node>>>(doc: string, fields: F): Section<F> {
  return { kind: 'section', doc, fields };
}

/** One Kinesis stream of SSC's streams block (its key names). */
function kinesisStream(which: 'good' | 'bad') {
  return section(`The ${which} stream`, {
    name: { kind: 'string', default: null, pattern: /^[A-Za-z0-9_.-]{1,128}$/, doc: `Kinesis stream of ${which === 'good' ? 'the collected CollectorPayload records' : 'bad rows (size violations)'}.` },
    region: { kind: 'string', default: null, pattern: /^[a-z0-9-]+$/, doc: 'Region of the stream; unset: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.' },
    customEndpoint: { kind: 'string', default: null, pattern: /^https?:\/\/[^\s]+$/, env: 'SLUICE_KINESIS_ENDPOINT', doc: 'Kinesis endpoint URL instead of AWS\'s (localstack, kinesalite, a VPC endpoint); the environment variable sets it for both streams.' },
    aws: section('Credentials', {
      accessKey: { kind: 'string', default: 'default', pattern: /^[^\s]+$/, doc: 'default, iam or env: the standard AWS chain; anything else is a static access key id.' },
      secretKey: { kind: 'string', default: 'default', pattern: /^[^\s]+$/, doc: 'default, iam or env: the standard AWS chain; anything else is a static secret key.' },
    }),
    backoffPolicy: section('Retries of failed PutRecords: forever, with exponential backoff and full jitter', {
      minBackoff: { kind: 'int', default: 500, min: 1, max: 3_600_000, doc: 'Shortest wait before a retry, ms (SSC: a number of ms).' },
      maxBackoff: { kind: 'int', default: 1500, min: 1, max: 3_600_000, doc: 'Longest wait before a retry, ms.' },
      maxRetries: { kind: 'int', default: 3, min: 1, max: 1_000_000, doc: 'Failed attempts in a row after which /sink-health and /health report the stream unhealthy (retries go on; events wait in the WAL).' },
    }),
    maxBytes: { kind: 'size', default: 1_000_000, min: 1000, max: 1_048_576, doc: 'A record at or over this size is split or becomes a size_violation bad row (SSC\'s rule); Kinesis takes 1 MiB at most.' },
    startupCheckInterval: { kind: 'duration', default: 1000, min: 100, max: 600_000, doc: 'How often the stream\'s existence is checked at start, until it answers.' },
    buffer: section('Batches of PutRecords', {
      byteLimit: { kind: 'size', default: 3_145_728, min: 1024, max: 5 * MiB, doc: 'Payload bytes of one PutRecords call at most (Kinesis: 5 MiB).' },
      recordLimit: { kind: 'int', default: 500, min: 1, max: 500, doc: 'Records of one PutRecords call at most (Kinesis: 500).' },
      timeLimit: { kind: 'ignored', doc: 'SSC holds records in memory up to this long; Sluice sends them as soon as they are on disk and a batch slot is free.' },
    }),
    threadPoolSize: { kind: 'ignored', doc: 'Sluice puts from one stream thread; stream.maxInFlightBatches bounds the calls at once.' },
    sqsGoodBuffer: { kind: 'ignored', doc: 'The WAL is Sluice\'s buffer for a stream that does not take records.' },
    sqsBadBuffer: { kind: 'ignored', doc: 'The WAL is Sluice\'s buffer for a stream that does not take records.' },
    sqsMaxBytes: { kind: 'ignored', doc: 'No SQS buffer in Sluice.' },
  });
}

export const SCHEMA = section('Sluice configuration', {
  akka: { kind: 'ignored', doc: 'SSC 2.x\'s Akka HTTP settings (every 2.x example file has them): Sluice has its own HTTP server; the limits that matter are collector.networking.' },
  collector: section('Collector behaviour, with the Scala Stream Collector 3.x key names', {
    interface: { kind: 'string', default: '0.0.0.0', pattern: /^[0-9A-Fa-f:.]+$/, doc: 'Address the public HTTP port binds to.' },
    port: { kind: 'int', default: 8080, min: 0, max: 65535, env: 'SLUICE_PORT', doc: 'Public HTTP port for trackers (0 picks a free port).' },
    paths: { kind: 'stringMap', default: {}, maxItems: 1000, doc: 'Custom `/vendor/version` paths mapped to one of `/com.snowplowanalytics.snowplow/tp2`, `/com.snowplowanalytics.iglu/v1` or `/r/tp2`.' },
    p3p: section('P3P header (SSC 2.x and the Clojure Collector sent it; SSC 3.x does not)', {
      enabled: { kind: 'bool', default: false, doc: 'Sluice extension: add the P3P header to event responses, as the Clojure Collector did.' },
      policyRef: { kind: 'string', default: '/w3c/p3p.xml', pattern: /^[^"\r\n]*$/, doc: 'P3P policyref.' },
      CP: { kind: 'string', default: 'NOI DSP COR NID PSA OUR IND COM NAV STA', pattern: /^[^"\r\n]*$/, doc: 'P3P compact policy.' },
    }),
    crossDomain: section('Flash /crossdomain.xml', {
      enabled: { kind: 'bool', default: false, doc: 'Serve /crossdomain.xml.' },
      domains: { kind: 'stringList', default: ['*'], maxItems: 1000, itemPattern: /^[^"<>&\r\n]+$/, doc: 'Domains allowed in the policy.' },
      secure: { kind: 'bool', default: true, doc: 'The policy\'s secure attribute.' },
    }),
    cookie: section('The network user id cookie', {
      enabled: { kind: 'bool', default: true, doc: 'Set the cookie on event responses.' },
      expiration: { kind: 'duration', default: 365 * DAY, min: 0, max: 20 * 365 * DAY, doc: 'Cookie lifetime.' },
      name: { kind: 'string', default: 'sp', pattern: COOKIE_NAME, doc: 'Cookie name.' },
      domains: { kind: 'stringList', default: [], maxItems: 1000, itemPattern: HOSTNAME, doc: 'Cookie domains chosen by matching the Origin header (first configured match wins).' },
      fallbackDomain: { kind: 'string', default: null, pattern: HOSTNAME, doc: 'Domain used when no configured domain matches the Origin.' },
      secure: { kind: 'bool', default: true, doc: 'Secure attribute (always set when sameSite is None).' },
      httpOnly: { kind: 'bool', default: true, doc: 'HttpOnly attribute (never on the client cookie).' },
      sameSite: { kind: 'enum', default: 'None', values: ['None', 'Strict', 'Lax'], doc: 'SameSite attribute.' },
      clientCookieName: { kind: 'string', default: null, pattern: COOKIE_NAME, doc: 'Name of a second, script-readable copy of the cookie.' },
    }),
    doNotTrackCookie: section('Requests carrying this cookie are answered but not recorded', {
      enabled: { kind: 'bool', default: false, doc: 'Honour the do-not-track cookie.' },
      name: { kind: 'string', default: '', pattern: /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?$/, doc: 'Cookie name.' },
      value: { kind: 'string', default: '', doc: 'Regular expression the whole cookie value must match (nested quantifiers such as `(a+)+` are refused: trackers control the value, so they could make it backtrack for minutes).' },
    }),
    cookieBounce: section('Third-party cookie test by a redirect to the same URL', {
      enabled: { kind: 'bool', default: false, doc: 'Bounce pixel requests that carry no network user id.' },
      name: { kind: 'string', default: 'n3pc', pattern: /^[A-Za-z0-9_.-]+$/, doc: 'Query parameter marking a bounced request.' },
      fallbackNetworkUserId: { kind: 'string', default: '00000000-0000-4000-A000-000000000000', pattern: COOKIE_VALUE, doc: 'Network user id for a bounced request that still has no cookie.' },
      forwardedProtocolHeader: { kind: 'string', default: null, pattern: /^[A-Za-z0-9-]+$/, doc: 'Header giving the original scheme (e.g. X-Forwarded-Proto) for an absolute Location.' },
    }),
    redirectMacro: { kind: 'refusedIfEnabled', flag: 'enabled', doc: 'SSC 2.x redirect macro; SSC 3.x ignores it and so does Sluice, so enabling it is refused rather than silently ignored.' },
    enableDefaultRedirect: { kind: 'bool', default: false, doc: 'Serve /r/* redirects.' },
    redirectDomains: { kind: 'stringList', default: [], maxItems: 10000, itemPattern: HOSTNAME, doc: 'Hosts redirects may point to (exact match); empty allows any host.' },
    rootResponse: section('Response to GET /', {
      enabled: { kind: 'bool', default: false, doc: 'Answer GET / (404 otherwise).' },
      statusCode: { kind: 'int', default: 302, min: 100, max: 599, doc: 'Status of the root response.' },
      headers: { kind: 'stringMap', default: {}, maxItems: 100, doc: 'Headers of the root response.' },
      body: { kind: 'string', default: '', doc: 'Body of the root response.' },
    }),
    cors: section('CORS', {
      accessControlMaxAge: { kind: 'duration', default: 3_600_000, min: 0, max: 365 * DAY, doc: 'Access-Control-Max-Age of preflight answers.' },
    }),
    ssl: { kind: 'refusedIfEnabled', flag: 'enable', doc: 'TLS is terminated by the load balancer in front of Sluice; ssl.enable = true is refused.' },
    hsts: section('Strict-Transport-Security', {
      enable: { kind: 'bool', default: false, doc: 'Add the HSTS header to every response.' },
      maxAge: { kind: 'duration', default: 365 * DAY, min: 0, max: 20 * 365 * DAY, doc: 'HSTS max-age.' },
    }),
    networking: section('HTTP limits', {
      maxConnections: { kind: 'int', default: 1024, min: 1, max: 1_000_000, doc: 'Open connections at most. At the cap the connection idle the longest is closed to admit a new one (idle keep-alive connections cannot lock clients out); only when every connection has a request in progress is the new one closed at once. Both are counted in sluice_http_connections_closed_at_cap_total.' },
      idleTimeout: { kind: 'duration', default: 610_000, min: 0, max: 3_600_000, doc: 'A keep-alive connection with no request for this long is closed (0: never). Keep it above the load balancer\'s idle timeout, so the balancer is the side that closes.' },
      responseHeaderTimeout: { kind: 'duration', default: 30_000, min: 100, max: 600_000, doc: 'A request whose event is not acknowledged by the sink within this time gets 408.' },
      bodyReadTimeout: { kind: 'duration', default: 25_000, min: 100, max: 600_000, doc: 'A request whose headers, or whose body, are not fully received within this time from its first byte gets 408 and the connection is closed: the bound on slow clients.' },
      maxRequestLineLength: { kind: 'int', default: 20_480, min: 256, max: 1_048_576, doc: 'Longest request line (method, target, version); longer gets 400.' },
      maxHeadersLength: { kind: 'int', default: 40_960, min: 256, max: 1_048_576, doc: 'Largest total of header names and values; larger gets 431.' },
      maxPayloadSize: { kind: 'size', default: 1_048_576, min: 100, max: 64 * MiB, doc: 'A record larger than this becomes a size_violation bad row.' },
      dropPayloadSize: { kind: 'size', default: 2_097_152, min: 100, max: 64 * MiB, doc: 'A body larger than this gets 413 and is not recorded.' },
    }),
    preTerminationPeriod: { kind: 'duration', default: 10_000, min: 0, max: 600_000, doc: 'After SIGTERM, /health answers 503 for this long while traffic is still served.' },
    streams: section('SSC\'s Kinesis sink settings (3.x form; the 2.x form, good = "name" with sink { } and buffer { }, is read as this): the good and bad streams of the stream sink. Other SSC sinks (Kafka, Pub/Sub, NSQ, SQS, stdout) are ignored. The sink is on when good.name is set, unless stream.enabled says otherwise.', {
      good: kinesisStream('good'),
      bad: kinesisStream('bad'),
      useIpAddressAsPartitionKey: { kind: 'bool', default: false, doc: 'Partition key of good records: the client IP (SSC\'s deprecated option) instead of a random UUID.' },
    }),
    telemetry: { kind: 'ignored', doc: 'Sluice sends no telemetry.' },
    license: { kind: 'ignored', doc: 'Sluice needs no licence acceptance.' },
    monitoring: { kind: 'ignored', doc: 'Sluice exposes Prometheus metrics on the admin port instead of statsd.' },
    enableStartupChecks: { kind: 'ignored', doc: 'SSC 2.x start-up checks.' },
    experimental: { kind: 'ignored', doc: 'SSC 2.x warm-up.' },
    prometheusMetrics: { kind: 'ignored', doc: 'SSC 2.x metrics; Sluice serves /metrics on the admin port.' },
    terminationDeadline: { kind: 'ignored', doc: 'SSC 2.x; ignored by SSC 3.x too.' },
    preTerminationUnhealthy: { kind: 'ignored', doc: 'SSC 2.x; Sluice is always unhealthy during the pre-termination period.' },
    compression: { kind: 'refusedIfEnabled', flag: 'enabled', doc: 'SSC 3.6 record batching; the batch pipeline cannot read it, so enabling it is refused.' },
  }),
  wal: section('Where acknowledged records are written before shipping', {
    dir: { kind: 'string', default: './data/wal', env: 'SLUICE_WAL_DIR', doc: 'Directory of the write-ahead log.' },
    maxRecordBytes: { kind: 'size', default: 1_000_000, min: 100, max: 64 * MiB, doc: 'A record at or above this size is split (tp2 JSON batches) or becomes a size_violation bad row: the SSC sink\'s maxBytes.' },
    segmentBytes: { kind: 'size', default: 64 * MiB, env: 'SLUICE_WAL_SEGMENT_BYTES', min: 64 * 1024, max: 1024 * MiB, doc: 'Size of a preallocated segment file; a segment rolls when the next record does not fit.' },
    spareSegments: { kind: 'int', default: 2, min: 1, max: 16, doc: 'Spare segment files kept written and ready for the next rolls, all written at start. Afterwards a new one is written only when no shipped segment\'s file is expected back (recycleSegments) or when no spare is left: while one is, a shipped file is awaited instead, since a new file\'s writes slow the WAL\'s syncs while they last. Each one is a segmentBytes file on the WAL disk.' },
    recycleSegments: { kind: 'int', default: 4, min: 0, max: 64, doc: 'Shipped segment files kept at most as spares for the next rolls: reused in place (only what sealing cut off is written again), their memory mapping too, so a roll maps nothing new (a new mapping makes V8 run a full garbage collection). Each one is a segmentBytes file on the WAL disk; 0 deletes every shipped segment.' },
    maxSegmentAgeMs: { kind: 'duration', was: 'maxSegmentAge', default: 60_000, min: 100, max: 3_600_000, doc: 'A segment with records rolls at this age, so the shipper can send every event within it.' },
    maxPendingRecords: { kind: 'int', default: 65_536, min: 1, max: 10_000_000, doc: 'Records appended and waiting for their sync at most; beyond it requests get 503.' },
    maxUnshippedBytes: { kind: 'size', default: 8 * 1024 * MiB, min: 1024 * 1024, max: 1024 * 1024 * MiB, doc: 'WAL bytes not yet shipped at most; beyond it requests get 503 (rides out an S3 outage up to this size).' },
    minFreeBytes: { kind: 'size', default: 1024 * MiB, min: 0, max: 1024 * 1024 * MiB, doc: 'Free disk below this floor: requests get 503 until space returns.' },
    maxSyncLatencyMs: { kind: 'duration', was: 'maxSyncLatency', default: 5_000, min: 10, max: 600_000, doc: 'A sync running or last taking longer than this: requests get 503 until syncs are fast again.' },
    commitDelayMs: { kind: 'duration', was: 'commitDelay', default: 0, min: 0, max: 1000, doc: 'Commit delay: a sync that would cover fewer than commitGroup requests waits until the first of them has waited this long, so that several requests share one fdatasync (each sync costs CPU whatever it covers). 0: every group syncs at once, the lowest latency; bench/RESULTS.md has what a delay saved and cost.' },
    commitGroup: { kind: 'int', default: 16, min: 1, max: 65_536, doc: 'A group of this many requests waiting for their sync starts it at once, without the commit delay.' },
    loopSyncGroup: { kind: 'int', default: 0, min: 0, max: 65_536, doc: 'A group of at most this many requests is synced on the HTTP thread\'s event loop (a blocking fdatasync) instead of the thread pool, while syncs are fast (loopSyncBelowMs); 0: always the pool. It saves the hand-off to a pool thread, but the loop reads nothing while the sync runs, so a sync that turns slow holds every waiting request; bench/RESULTS.md has the trade-off.' },
    loopSyncBelowMs: { kind: 'duration', was: 'loopSyncBelow', default: 2, min: 0, max: 1000, doc: 'Syncs run on the event loop (loopSyncGroup) only while the previous sync took less than this; after a slower one the next sync goes to the thread pool.' },
    serializer: { kind: 'enum', default: 'inline', values: ['inline', 'pool'], env: 'SLUICE_SERIALIZER', doc: 'Where records are built: on the HTTP thread (inline) or in a piscina worker pool (pool). Packing a request for a worker costs about as much as encoding its record, so the pool pays only where it has cores of its own (bench/probes/serializer-bench.js).' },
    serializerThreads: { kind: 'int', default: 1, min: 1, max: 64, doc: 'Worker threads of the serializer pool.' },
    serializerBatch: { kind: 'int', default: 64, min: 1, max: 4096, doc: 'Requests per batch handed to the pool at most (a batch also ends with the event-loop turn).' },
    serializerMaxQueuedJobs: { kind: 'int', default: 16_384, min: 1, max: 1_000_000, doc: 'Requests queued for or inside the pool at most; beyond it requests get 503.' },
    shards: { kind: 'int', default: 1, min: 1, max: 64, env: 'SLUICE_WAL_SHARDS', doc: 'HTTP worker processes, each with its own WAL shard in wal.dir/shard-<n>, sharing the public port (node:cluster hands each connection to a worker in turn); one shipper ships every shard. 1: the main process serves HTTP and writes wal.dir itself. Set it to the cores the collector may use; changing it needs an empty WAL (sluice replay ships what is left).' },
    durability: { kind: 'enum', default: 'fsync', values: ['fsync', 'none'], env: 'SLUICE_DURABILITY', doc: 'fsync: answer only after the record is synced to disk. none: benchmarks only, acknowledged events can be lost.' },
  }),
  ship: section('Shipping sealed segments to S3', {
    enabled: { kind: 'bool', default: true, doc: 'Run the shipper (off: segments stay in the WAL for `sluice replay`).' },
    intervalSeconds: { kind: 'int', default: 60, min: 1, max: 3600, env: 'SLUICE_SHIP_INTERVAL_S', doc: 'Every acknowledged event reaches S3 within this many seconds under normal conditions: the open segment rolls early enough for its upload to finish in time.' },
    format: { kind: 'enum', default: 'lzo', values: ['lzo', 'gzip'], doc: 'lzo: splittable LZO with .lzo.index (elephant-bird blocks, what Hadoop and batch enrich read); gzip: one base64 record per line.' },
    keyTemplate: { kind: 'string', default: DEFAULT_KEY_TEMPLATE, pattern: /^[A-Za-z0-9{}\/._=-]+$/, doc: 'Object key layout: {prefix} {yyyy} {MM} {dd} {HH} (UTC hour of the segment\'s first event) {instance} {seq} {ext}.' },
    concurrency: { kind: 'int', default: 2, min: 1, max: 16, doc: 'Segments uploaded at once at most.' },
    readChunkBytes: { kind: 'size', was: 'readChunk', default: 1 * MiB, min: 64 * 1024, max: 64 * MiB, doc: 'A sealed segment is read for shipping through one buffer of this size (grown only for a longer record), not loaded whole: memory per segment being shipped, whatever wal.segmentBytes.' },
    threadNiceness: { kind: 'int', default: 10, min: 0, max: 19, doc: 'Nice value of the shipper thread, so building files for a backlog yields the CPU to HTTP.' },
    maxAttempts: { kind: 'int', default: 8, min: 1, max: 100, doc: 'Attempts per object in one round; after them the segment waits retryMaxDelayMs and starts over (data is never dropped).' },
    retryBaseDelayMs: { kind: 'duration', was: 'retryBaseDelay', default: 200, min: 1, max: 60_000, doc: 'First retry delay; doubles per attempt, with full jitter.' },
    retryMaxDelayMs: { kind: 'duration', was: 'retryMaxDelay', default: 30_000, min: 10, max: 3_600_000, doc: 'Longest retry delay, and the pause between rounds.' },
    multipartThresholdBytes: { kind: 'size', was: 'multipartThreshold', default: 16 * MiB, min: 5 * MiB, max: 5 * 1024 * MiB, doc: 'Files larger than this upload in parts.' },
    partSizeBytes: { kind: 'size', was: 'partSize', default: 8 * MiB, min: 5 * MiB, max: 512 * MiB, doc: 'Multipart part size.' },
    archiveDir: { kind: 'string', default: null, doc: 'Move shipped segments here instead of deleting them.' },
    archiveRetentionMs: { kind: 'duration', was: 'archiveRetention', default: 7 * DAY, min: 60_000, max: 3650 * DAY, doc: 'Archived segments older than this are deleted.' },
    maxLagMs: { kind: 'duration', was: 'maxLag', default: 600_000, min: 1000, max: 7 * DAY, doc: '/health turns unhealthy when the oldest unshipped event is older than this.' },
    drainTimeoutMs: { kind: 'duration', was: 'drainTimeout', default: 30_000, min: 0, max: 3_600_000, doc: 'On shutdown, how long to keep shipping after sealing the open segment.' },
  }),
  stream: section('The stream sink: the WAL\'s records put into the Kinesis streams of collector.streams', {
    enabled: { kind: 'enum', default: 'auto', values: ['auto', 'on', 'off'], env: 'SLUICE_STREAM', doc: 'auto: on when collector.streams.good.name is set (every SSC Kinesis file sets it); off keeps an SSC file\'s streams block without putting records.' },
    maxInFlightBatches: { kind: 'int', default: 4, min: 1, max: 64, doc: 'PutRecords batches out at once at most: the sink\'s memory bound (times buffer.byteLimit) and the most a crash can send twice.' },
    requestTimeoutMs: { kind: 'duration', default: 10_000, min: 100, max: 600_000, doc: 'Timeout of one Kinesis request; a timed-out batch is retried.' },
    maxLagMs: { kind: 'duration', default: 600_000, min: 1000, max: 7 * DAY, doc: '/health turns unhealthy when the oldest event on disk and not yet in the stream is older than this.' },
    readChunkBytes: { kind: 'size', default: 1 * MiB, min: 64 * 1024, max: 64 * MiB, doc: 'The WAL is read for the stream through one buffer of this size (grown only for a longer record).' },
  }),
  s3: section('Where shipped files go', {
    endpoint: { kind: 'string', default: null, pattern: /^https?:\/\/[^\s]+$/, env: 'SLUICE_S3_ENDPOINT', doc: 'S3 endpoint URL; unset starts the embedded S3 (s3rver) on embeddedDir. AWS S3 itself: set region only.' },
    useAws: { kind: 'bool', default: false, env: 'SLUICE_S3_USE_AWS', doc: 'Use AWS S3 (the standard endpoint for the region) instead of the embedded S3 when endpoint is unset.' },
    bucket: { kind: 'string', default: 'sluice-raw', pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, env: 'SLUICE_S3_BUCKET', doc: 'Bucket (created if absent when createBucket).' },
    prefix: { kind: 'string', default: 'raw', pattern: /^[A-Za-z0-9/._=-]*$/, env: 'SLUICE_S3_PREFIX', doc: 'Key prefix of good records.' },
    badPrefix: { kind: 'string', default: 'bad', pattern: /^[A-Za-z0-9/._=-]*$/, doc: 'Key prefix of bad rows (size violations).' },
    region: { kind: 'string', default: null, pattern: /^[a-z0-9-]+$/, doc: 'Region; unset: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.' },
    forcePathStyle: { kind: 'bool', default: false, doc: 'Path-style requests (most S3-compatible servers).' },
    createBucket: { kind: 'bool', default: true, doc: 'Create the bucket when it does not exist.' },
    sse: { kind: 'enum', default: 'none', values: ['none', 'AES256', 'aws:kms'], doc: 'Server-side encryption: none, SSE-S3 (AES256) or SSE-KMS (aws:kms).' },
    kmsKeyId: { kind: 'string', default: null, pattern: /^[A-Za-z0-9:/_-]+$/, doc: 'KMS key id or ARN for SSE-KMS.' },
    storageClass: { kind: 'string', default: null, pattern: /^[A-Z_]+$/, doc: 'Storage class (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ...).' },
    requestTimeoutMs: { kind: 'duration', was: 'requestTimeout', default: 60_000, min: 1000, max: 3_600_000, doc: 'Timeout of one S3 request.' },
    embeddedDir: { kind: 'string', default: './data/s3', env: 'SLUICE_EMBEDDED_S3_DIR', doc: 'Directory of the embedded S3.' },
    embeddedPort: { kind: 'int', default: 4569, min: 0, max: 65535, env: 'SLUICE_EMBEDDED_S3_PORT', doc: 'Loopback port of the embedded S3 (0: any free port).' },
  }),
  admin: section('The admin port: Prometheus /metrics, /health with every check, the /status page', {
    enabled: { kind: 'bool', default: true, doc: 'Serve the admin port.' },
    interface: { kind: 'string', default: '127.0.0.1', pattern: /^[0-9A-Fa-f:.]+$/, env: 'SLUICE_ADMIN_INTERFACE', doc: 'Address the admin port binds to: loopback unless set (metrics and the status page are for the instance\'s operators; the image sets 0.0.0.0, to be published to the operators\' network only).' },
    port: { kind: 'int', default: 9090, min: 0, max: 65535, env: 'SLUICE_ADMIN_PORT', doc: 'Admin HTTP port (0 picks a free port); must differ from the public port.' },
    allowedHosts: { kind: 'stringList', default: [], maxItems: 64, itemPattern: /^[A-Za-z0-9.:-]+$/, env: 'SLUICE_ADMIN_ALLOWED_HOSTS', doc: 'Host names the admin port answers besides loopback names and its bind address (other Host headers get 421): a name a browser could be tricked into resolving to this machine (DNS rebinding) must not read the metrics or the status page.' },
    maxEventLoopDelayMs: { kind: 'duration', was: 'maxEventLoopDelay', default: 1000, min: 10, max: 600_000, doc: '/health turns unhealthy while the largest event-loop delay of the last second exceeds this.' },
    statusHistorySeconds: { kind: 'int', default: 300, min: 10, max: 3600, doc: 'Seconds of one-per-second samples the status page\'s charts keep on the server, so a page opened during an incident shows the minutes before (about 200 bytes per second).' },
  }),
});
