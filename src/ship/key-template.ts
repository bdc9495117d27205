/**
 * Object keys for a shipped segment: a template with {prefix} {yyyy} {MM} {dd} {HH} {instance}
 * {seq} {ext}. The time is the UTC hour of the segment's first event, so keys are deterministic:
 * shipping a segment again overwrites the same objects.
 */
import { PLACEHOLDER } from '../config/key-template';

export interface KeyParts {
  prefix: string;
  instance: string;
  seq: number;
  firstEventMs: number;
  ext: string;
}

const two = (n: number): string => String(n).padStart(2, '0');

export function objectKey(template: string, p: KeyParts): string {
  const d = new Date(p.firstEventMs);
  const values: Record<string, string> = {
    prefix: p.prefix, yyyy: String(d.getUTCFullYear()), MM: two(d.getUTCMonth() + 1), dd: two(d.getUTCDate()), HH: two(d.getUTCHours()),
    instance: p.instance, seq: String(p.seq).padStart(20, '0'), ext: p.ext,
  };
  return template.replace(PLACEHOLDER, (_, k: string) => values[k]!).replace(/\/{2,}/g, '/').replace(/^\//, '');
}
