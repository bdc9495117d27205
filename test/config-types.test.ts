// SluiceConfig is derived from SCHEMA (src/config/types.ts): the builder must give every key the
// value type its schema node declares, and ignored SSC keys none. Checked at run time over every
// leaf, and at compile time on a few keys (the @ts-expect-error lines fail the type check if the
// derived type loosens).
import t from 'tap';
import { configFromObject } from '../src/config/load';
import { SCHEMA, type Node } from '../src/config/schema';
import type { Durability, SluiceConfig } from '../src/config/types';

function expectedType(n: Node): string {
  switch (n.kind) {
    case 'int': case 'size': case 'duration': return 'number';
    case 'bool': return 'boolean';
    case 'string': return n.default === null ? 'string|null' : 'string';
    case 'enum': return 'enum';
    case 'stringList': return 'array';
    case 'stringMap': return 'object';
    default: return 'absent';
  }
}

t.test('every schema leaf has its value type in the built configuration', async (t) => {
  const { config } = configFromObject({});
  let leaves = 0;
  const walk = (node: Node, value: unknown, path: string): void => {
    if (node.kind === 'section') {
      t.equal(typeof value, 'object', `${path || 'root'} is an object`);
      const obj = value as Record<string, unknown>;
      for (const [k, child] of Object.entries(node.fields)) walk(child, obj[k], path === '' ? k : `${path}.${k}`);
      return;
    }
    leaves++;
    const want = expectedType(node);
    const ok = want === 'absent' ? value === undefined
      : want === 'string|null' ? value === null || typeof value === 'string'
        : want === 'enum' ? node.kind === 'enum' && node.values.includes(value as string)
          : want === 'array' ? Array.isArray(value)
            : want === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
              : typeof value === want;
    if (!ok) t.fail(`${path}: ${JSON.stringify(value)} is not ${want}`);
  };
  walk(SCHEMA, config, '');
  t.ok(leaves > 90, `${leaves} leaves checked`);
});

t.test('the derived type is as narrow as the schema', async (t) => {
  const { config } = configFromObject({});
  const d: Durability = config.wal.durability;
  t.ok(d === 'fsync' || d === 'none');
  const bucket: string = config.s3.bucket;
  const endpoint: string | null = config.s3.endpoint;
  t.equal(typeof bucket, 'string');
  t.equal(endpoint, null);
  // @ts-expect-error an enum takes only its values
  const bad: Durability = 'sometimes';
  void bad;
  // @ts-expect-error ignored SSC keys carry no value
  void config.collector.telemetry;
  // @ts-expect-error an ignored key inside a section carries none either
  void config.collector.streams.good.buffer.timeLimit;
  const recordLimit: number = config.collector.streams.good.buffer.recordLimit;
  t.equal(recordLimit, 500, 'SSC\'s stream keys are typed from the schema');
  const c: SluiceConfig = config;
  t.equal(c.collector.port, 8080);
});
