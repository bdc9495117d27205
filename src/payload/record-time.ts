/** The event time of a stored record: a good record's CollectorPayload timestamp (ms). */
import { FrameKind } from '../wal/segment-format';
import { decodeCollectorPayload } from './decode-payload';

export function recordTimeMs(kind: FrameKind, payload: Buffer): number | null {
  if (kind !== FrameKind.Good) return null;
  const t = decodeCollectorPayload(payload).timestamp;
  return t > 0 ? t : null;
}
