/**
 * HOCON value units: durations ("365 days", "30 seconds", "500 ms") and sizes ("2 MiB").
 * A bare number is milliseconds for a duration (as in HOCON) and bytes for a size.
 */

const DURATION_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, nano: 1e-6, nanos: 1e-6, nanosecond: 1e-6, nanoseconds: 1e-6,
  us: 1e-3, micro: 1e-3, micros: 1e-3, microsecond: 1e-3, microseconds: 1e-3,
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, second: 1000, seconds: 1000,
  m: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

const SIZE_BYTES: Readonly<Record<string, number>> = {
  b: 1, byte: 1, bytes: 1,
  k: 1000, kb: 1000, kilobyte: 1000, kilobytes: 1000,
  ki: 1024, kib: 1024, kibibyte: 1024, kibibytes: 1024,
  m: 1000 ** 2, mb: 1000 ** 2, megabyte: 1000 ** 2, megabytes: 1000 ** 2,
  mi: 1024 ** 2, mib: 1024 ** 2, mebibyte: 1024 ** 2, mebibytes: 1024 ** 2,
  g: 1000 ** 3, gb: 1000 ** 3, gigabyte: 1000 ** 3, gigabytes: 1000 ** 3,
  gi: 1024 ** 3, gib: 1024 ** 3, gibibyte: 1024 ** 3, gibibytes: 1024 ** 3,
};

const UNIT_VALUE = /^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;

function parseWithUnits(value: unknown, table: Readonly<Record<string, number>>, bare: number, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * bare;
  if (typeof value !== 'string') throw new Error(`expected a ${what}, got ${JSON.stringify(value)}`);
  const m = UNIT_VALUE.exec(value);
  if (m === null) throw new Error(`expected a ${what} such as "30 seconds", got ${JSON.stringify(value)}`);
  const unit = m[2]!.toLowerCase();
  const factor = unit === '' ? bare : table[unit];
  if (factor === undefined) throw new Error(`unknown unit "${m[2]}" in ${what} ${JSON.stringify(value)}`);
  return Number(m[1]) * factor;
}

/** Duration in milliseconds. */
export function parseDurationMs(value: unknown): number {
  return Math.round(parseWithUnits(value, DURATION_MS, 1, 'duration'));
}

/** Size in bytes. */
export function parseSizeBytes(value: unknown): number {
  return Math.round(parseWithUnits(value, SIZE_BYTES, 1, 'size'));
}
