// A real tracker: @snowplow/node-tracker sends page views, structured and self-describing events
// with contexts over GET and POST; every event arrives as a record whose fields match.
import t from 'tap';
import { buildPageView, buildSelfDescribingEvent, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { startServer } from './helpers/server';
import type { DecodedPayload } from './helpers/records';

type Params = Record<string, string>;

/** Events in a record: the GET query, or the tp2 POST body's data array. */
function eventsOf(r: DecodedPayload): Params[] {
  if (r.path === '/i') return [Object.fromEntries(new URLSearchParams(r.querystring!)) as Params];
  const body = JSON.parse(r.body!) as { schema: string; data: Params[] };
  return body.data;
}

const context = { schema: 'iglu:com.acme/ctx/jsonschema/1-0-0', data: { plan: 'gold', seats: 3 } };
const sde = { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { email: 'zoë@example.com', step: 2 } };

for (const method of ['get', 'post'] as const) {
  t.test(`node-tracker over ${method.toUpperCase()}`, async (t) => {
    const s = await startServer();
    t.teardown(() => s.stop());
    const tracker = newTracker({ namespace: 'ns', appId: 'sluice-test', encodeBase64: false }, {
      endpoint: `127.0.0.1:${s.port}`, protocol: 'http', eventMethod: method, bufferSize: method === 'post' ? 3 : 1,
    });
    tracker.track(buildPageView({ pageUrl: 'https://acme.com/pricing?x=1', pageTitle: 'Pricing €', referrer: 'https://google.com/' }), [context]);
    tracker.track(buildStructEvent({ category: 'shop', action: 'add', label: 'sku-1', property: 'red', value: 9.5 }), [context]);
    tracker.track(buildSelfDescribingEvent({ event: sde }), [context]);
    await tracker.flush();

    const records = s.records();
    t.ok(records.length >= 1, `${records.length} record(s)`);
    const events = records.flatMap(eventsOf);
    t.equal(events.length, 3, 'three events arrived');
    for (const r of records) {
      t.equal(r.schema, 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0');
      t.equal(r.ipAddress, '127.0.0.1');
      t.match(r.networkUserId!, /^[0-9a-f-]{36}$/);
      t.equal(r.path, method === 'get' ? '/i' : '/com.snowplowanalytics.snowplow/tp2');
      if (method === 'post') t.match(r.contentType!, /^application\/json/);
    }
    const pv = events.find((e) => e['e'] === 'pv')!;
    t.same([pv['url'], pv['page'], pv['refr'], pv['aid'], pv['tna']], ['https://acme.com/pricing?x=1', 'Pricing €', 'https://google.com/', 'sluice-test', 'ns'], 'page view fields');
    const se = events.find((e) => e['e'] === 'se')!;
    t.same([se['se_ca'], se['se_ac'], se['se_la'], se['se_pr'], se['se_va']], ['shop', 'add', 'sku-1', 'red', '9.5'], 'structured event fields');
    const ue = events.find((e) => e['e'] === 'ue')!;
    const pr = JSON.parse(ue['ue_pr']!) as { data: typeof sde };
    t.same(pr.data, sde, 'self-describing event payload');
    for (const e of events) {
      const co = JSON.parse(e['co']!) as { data: Array<typeof context> };
      t.same(co.data.find((c) => c.schema === context.schema), context, `context on ${e['e']}`);
      t.match(e['eid']!, /^[0-9a-f-]{36}$/);
    }
    t.equal(new Set(events.map((e) => e['eid'])).size, 3, 'distinct event ids');
  });
}
