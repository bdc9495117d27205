/**
 * The validated configuration's types, derived from SCHEMA (schema.ts, the one source): names
 * for the parts the rest of the code takes. Durations are in ms, sizes in bytes.
 */
import type { SCHEMA, ValueOf } from './schema';

export type SluiceConfig = ValueOf<typeof SCHEMA>;
export type CollectorConfig = SluiceConfig['collector'];
export type CookieConfig = CollectorConfig['cookie'];
export type SameSite = CookieConfig['sameSite'];
export type WalConfig = SluiceConfig['wal'];
export type Durability = WalConfig['durability'];
export type ShipConfig = SluiceConfig['ship'];
export type S3Config = SluiceConfig['s3'];
export type AdminConfig = SluiceConfig['admin'];
