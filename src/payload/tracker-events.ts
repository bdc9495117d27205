/**
 * How many tracker events a stored request carries, for the metrics: a pixel or a webhook is one;
 * a tp2 POST is one record holding a batch, counted by its events' `"e":` fields (every tracker
 * event has exactly one; inside the batch's string fields, such as contexts, quotes are escaped,
 * so they do not match). A native byte search: no JSON parse on the request's path.
 */

const EVENT_FIELD = Buffer.from('"e":', 'latin1');

export function tp2EventCount(body: Buffer | null): number {
  if (body === null) return 0;
  let n = 0;
  let at = body.indexOf(EVENT_FIELD);
  while (at >= 0) {
    n++;
    at = body.indexOf(EVENT_FIELD, at + EVENT_FIELD.length);
  }
  return n;
}
