/**
 * The stream sink's one way to Kinesis: PutRecords with each record's own outcome, and the
 * start-up check that the streams exist. HTTP/1.1 through NodeHttpHandler (the SDK's default for
 * some Kinesis calls is HTTP/2, which neither kinesalite nor most proxies speak), with timeouts.
 */
import { DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { quietSdkNodeNotice } from './sdk-notice';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface KinesisSettings {
  /** Custom endpoint (SSC's customEndpoint); null: AWS's endpoint for the region. */
  endpoint: string | null;
  region: string;
  /** Static keys (SSC's aws.accessKey/secretKey when they are not default, iam or env); null: the AWS chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  requestTimeoutMs: number;
}

export interface StreamEntry {
  data: Buffer;
  partitionKey: string;
}

/** What one PutRecords call did: the indexes of the records it failed, with their error codes. */
export interface PutOutcome {
  failed: Array<{ index: number; code: string }>;
}

/** The calls the stream sink makes; a test or bench may give another (a bare client, a fault). */
export interface StreamClient {
  put(stream: string, entries: readonly StreamEntry[]): Promise<PutOutcome>;
  /** Null when the stream exists and is usable, else why not. */
  check(stream: string): Promise<string | null>;
  close(): void;
}

export class KinesisStreamClient implements StreamClient {
  private readonly client: KinesisClient;

  constructor(s: KinesisSettings) {
    quietSdkNodeNotice();
    this.client = new KinesisClient({
      region: s.region,
      ...(s.endpoint === null ? {} : { endpoint: s.endpoint }),
      ...(s.credentials === null ? {} : { credentials: s.credentials }),
      // The sink retries by itself (only the failed records, with its own backoff).
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: s.requestTimeoutMs, connectionTimeout: Math.min(s.requestTimeoutMs, 10_000) }),
    });
  }

  async put(stream: string, entries: readonly StreamEntry[]): Promise<PutOutcome> {
    const out = await this.client.send(new PutRecordsCommand({
      StreamName: stream,
      Records: entries.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
    }));
    const results = out.Records ?? [];
    if (results.length !== entries.length) throw new Error(`PutRecords answered ${results.length} results for ${entries.length} records`);
    const failed: PutOutcome['failed'] = [];
    results.forEach((r, index) => {
      if (r.ErrorCode !== undefined && r.ErrorCode !== null && r.ErrorCode !== '') failed.push({ index, code: r.ErrorCode });
    });
    return { failed };
  }

  async check(stream: string): Promise<string | null> {
    try {
      const r = await this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      const status = r.StreamDescriptionSummary?.StreamStatus;
      return status === 'ACTIVE' || status === 'UPDATING' ? null : `stream ${stream} is ${status ?? 'in an unknown state'}`;
    } catch (e) {
      const err = e as Error;
      return `stream ${stream}: ${err.name}: ${err.message}`;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
