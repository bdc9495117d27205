/**
 * Collector bad rows: self-describing JSON written to the bad-row output, never dropped.
 * Only size_violation exists for a collector (schema 1-0-0 of com.snowplowanalytics.snowplow.badrows).
 */

export const SIZE_VIOLATION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0';

export interface Processor { artifact: string; version: string }

export interface SizeViolation {
  maximumAllowedSizeBytes: number;
  actualSizeBytes: number;
  expectation: string;
  /** Already truncated by the caller. */
  payload: string;
}

export function sizeViolationRow(processor: Processor, v: SizeViolation, now: Date): Buffer {
  const row = {
    schema: SIZE_VIOLATION_SCHEMA,
    data: {
      processor: { artifact: processor.artifact, version: processor.version },
      failure: {
        timestamp: now.toISOString(),
        maximumAllowedSizeBytes: v.maximumAllowedSizeBytes,
        actualSizeBytes: v.actualSizeBytes,
        expectation: v.expectation,
      },
      payload: v.payload,
    },
  };
  return Buffer.from(JSON.stringify(row), 'utf8');
}
