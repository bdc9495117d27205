/**
 * A real Kinesis API on loopback for the tests: kinesalite (in memory), the streams created with
 * CreateStream, and every record read back with GetShardIterator (TRIM_HORIZON) and GetRecords over
 * every shard, through @aws-sdk/client-kinesis on HTTP/1.1 (NodeHttpHandler).
 */
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite') as (o: Record<string, unknown>) => Server;

export const KINESIS_ENV = { AWS_ACCESS_KEY_ID: 'kinesalite', AWS_SECRET_ACCESS_KEY: 'kinesalite', AWS_REGION: 'eu-central-1' };

export interface StreamRecord {
  data: Buffer;
  partitionKey: string;
  shard: string;
  sequenceNumber: string;
}

export interface TestKinesis {
  endpoint: string;
  port: number;
  client: KinesisClient;
  createStreams(names: readonly string[], shards?: number): Promise<void>;
  /** Every record of `stream`, shard by shard, in each shard's order. */
  readAll(stream: string): Promise<StreamRecord[]>;
  stop(): Promise<void>;
}

export function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({ endpoint, region: 'eu-central-1', credentials: { accessKeyId: 'kinesalite', secretAccessKey: 'kinesalite' }, requestHandler: new NodeHttpHandler() });
}

export async function startKinesis(): Promise<TestKinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = kinesisClient(endpoint);
  return {
    endpoint, port, client,
    async createStreams(names, shards = 2) {
      for (const StreamName of names) await client.send(new CreateStreamCommand({ StreamName, ShardCount: shards }));
    },
    async readAll(stream) {
      const out: StreamRecord[] = [];
      const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
      for (const s of shards) {
        let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        while (it !== undefined) {
          const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
          const records = r.Records ?? [];
          for (const rec of records) out.push({ data: Buffer.from(rec.Data!), partitionKey: rec.PartitionKey!, shard: s.ShardId!, sequenceNumber: rec.SequenceNumber! });
          if (records.length === 0) break;
          it = r.NextShardIterator;
        }
      }
      return out;
    },
    stop: () => new Promise<void>((resolve) => { client.destroy(); server.close(() => resolve()); }),
  };
}

/** How the acknowledged pixels (`eid` in the query) fared in `stream`: missing ones and extra copies. */
export async function pixelOutcome(k: TestKinesis, stream: string, acked: ReadonlySet<string>, decodeQuery: (data: Buffer) => string): Promise<{ lost: string[]; extra: number; counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  for (const r of await k.readAll(stream)) {
    const id = new URLSearchParams(decodeQuery(r.data)).get('eid')!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const lost = [...acked].filter((id) => !counts.has(id));
  const extra = [...counts.values()].reduce((a, c) => a + (c - 1), 0);
  return { lost, extra, counts };
}
