import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../validation/event.ts';
import { derivedId, impressionIdOf, mapUbi, parseUbiTimestamp, ubiPathOf, type UbiMapping } from './map.ts';
import { parseBulkNdjson } from './ndjson.ts';

const UBI_SAMPLE = new URL('../../../../../shared/data/ubi/ubi-sample-dev.ndjson', import.meta.url);

const map = (lines: unknown[], ordinalBase: 0 | 1 = 0): UbiMapping =>
  mapUbi(parseBulkNdjson(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')), {
    ordinalBase,
  });

const at = '2024-12-10T00:01:29.378Z';
const atMs = Date.parse(at);
const uEvent = (action: string, extra: Record<string, unknown> = {}) => ({
  action_name: action,
  query_id: 'q-1',
  session_id: 'sess-1',
  client_id: 'client-1',
  timestamp: at,
  event_attributes: { object: { object_id: 'B01' }, position: { ordinal: 0 } },
  ...extra,
});

describe('mapUbi on the real UBI sample', () => {
  let mapping: UbiMapping;

  beforeAll(() => {
    if (!existsSync(UBI_SAMPLE)) {
      throw new Error(`the UBI sample ${UBI_SAMPLE.pathname} is missing: see /work/shared/data/README.md`);
    }
    mapping = mapUbi(parseBulkNdjson(readFileSync(UBI_SAMPLE, 'utf8')), { ordinalBase: 0 });
  });

  it('accounts for every document: 200 queries and 1,060 events, none rejected', () => {
    expect(mapping.documents).toHaveLength(1_260);
    expect(mapping.documents.filter((d) => d.kind === 'query')).toHaveLength(200);
    expect(mapping.documents.filter((d) => d.kind === 'event')).toHaveLength(1_060);
    expect(mapping.rejected.size).toBe(0);
    const mappedLines = mapping.events.flatMap((e) => e.lines).sort((a, b) => a - b);
    expect(mappedLines).toEqual(mapping.documents.map((d) => d.line));
  });

  it('makes one search_impression per query of its 5 shown products, positions 1..5', () => {
    const impressions = mapping.events.filter((e) => e.event['type'] === 'search_impression');
    expect(impressions).toHaveLength(200);
    for (const { event, lines } of impressions) {
      expect(lines).toHaveLength(6); // the query document and its 5 impression events
      expect((event['items'] as { position: number }[]).map((i) => i.position)).toEqual([1, 2, 3, 4, 5]);
      expect(event['event_id']).toBe(impressionIdOf(event['request_id'] as string));
    }
    expect(impressions[0]!.event).toMatchObject({
      request_id: '33198ee9-5912-453c-9173-3f92fd3cb1be',
      occurred_at: atMs,
      query: 'futon frames full size without mattress',
      session_id: '94cb50fb-c3af-4a69-91d9-cdd9e86d6297',
    });
    expect(impressions[0]!.event['items']).toContainEqual({
      product_id: 'B07CVR21VN',
      position: 1,
      retrieval_score: null,
    });
  });

  it('makes 60 clicks that refer to their impression and keep the sample ids', () => {
    const clicks = mapping.events.filter((e) => e.event['type'] === 'click');
    expect(clicks).toHaveLength(60);
    const impressionIds = new Set(mapping.events.map((e) => e.event['event_id']));
    for (const { event } of clicks) expect(impressionIds.has(event['impression_id'])).toBe(true);
    const first = clicks.find((c) => c.event['request_id'] === '6610ec99-2271-4fe6-a4ca-d03546b0112d')!;
    expect(first.event).toMatchObject({ product_id: 'B08GPZW3FB', position: 3, query: 'ps4' });
  });

  it('yields events that pass the collector validation at the time they were recorded', () => {
    const lastEvent = Math.max(...mapping.events.map((e) => e.event['occurred_at'] as number));
    const limits = { maxPastMs: 30 * 86_400_000, maxFutureMs: 60_000 };
    const invalid = mapping.events.map((e) => validateEvent(e.event, lastEvent, limits)).filter((v) => !v.ok);
    expect(invalid).toEqual([]);
  });

  it('puts each impression before the clicks on it', () => {
    const order = new Map(mapping.events.map((e, i) => [e.event['event_id'], i]));
    for (const { event } of mapping.events.filter((e) => e.event['type'] === 'click')) {
      expect(order.get(event['impression_id'])!).toBeLessThan(order.get(event['event_id'])!);
    }
  });
});

describe('mapUbi on messy streams', () => {
  it('rejects unknown action names by name instead of dropping them', () => {
    const { rejected, events } = map([uEvent('view'), uEvent('watch'), uEvent('hover')]);
    expect(events).toEqual([]);
    expect([...rejected.values()].map((e) => e[0]!.reason)).toEqual([
      '"view" has no SearchOp event; supported: impression, click, click_through, add_to_cart, purchase',
      '"watch" has no SearchOp event; supported: impression, click, click_through, add_to_cart, purchase',
      '"hover" has no SearchOp event; supported: impression, click, click_through, add_to_cart, purchase',
    ]);
  });

  it('reads ISO, zone-less ISO (as UTC), epoch milliseconds and epoch seconds, as numbers or text', () => {
    for (const timestamp of [at, at.replace('Z', ''), atMs, String(atMs), atMs / 1000, '2024-12-10 00:01:29.378']) {
      const { events, rejected } = map([uEvent('click', { timestamp })]);
      expect(rejected.size, String(timestamp)).toBe(0);
      expect(events[0]!.event['occurred_at']).toBe(atMs);
    }
    expect(map([uEvent('click', { timestamp: 'yesterday' })]).rejected.get(1)).toEqual([
      { path: 'timestamp', reason: 'expected an ISO-8601 date-time or epoch seconds/milliseconds' },
    ]);
    expect(parseUbiTimestamp(-5)).toBeUndefined();
  });

  it('maps click_through, add_to_cart with quantity and purchase with price in major units', () => {
    const { events, rejected } = map([
      uEvent('Click_Through'),
      uEvent('add_to_cart', { event_attributes: { object: { object_id: 42, quantity: 3 }, position: { ordinal: 1 } } }),
      uEvent('purchase', {
        event_attributes: {
          object: { object_id: 'B01' },
          transaction_id: 'order-7',
          price: 129.99,
          currency: 'EUR',
        },
      }),
      uEvent('purchase', {
        event_attributes: { object: { object_id: 'B01' }, order_id: 'o-8', price: 1200, currency: 'JPY' },
      }),
    ]);
    expect(rejected.size).toBe(0);
    expect(events.map((e) => e.event['type'])).toEqual(['click', 'add_to_cart', 'purchase', 'purchase']);
    expect(events[0]!.event).toMatchObject({ impression_id: impressionIdOf('q-1'), request_id: 'q-1', position: 1 });
    expect(events[1]!.event).toMatchObject({ product_id: '42', quantity: 3, position: 2 });
    expect(events[2]!.event).toMatchObject({ order_id: 'order-7', unit_price_minor: 12_999, currency: 'EUR' });
    expect(events[2]!.event['position']).toBeNull();
    expect(events[3]!.event).toMatchObject({ unit_price_minor: 1_200, currency: 'JPY' });
  });

  it('names what a purchase lacks, and falls back from session_id to client_id', () => {
    const { rejected, events } = map([
      uEvent('purchase', { event_attributes: { object: { object_id: 'B01' } } }),
      uEvent('click', { session_id: undefined }),
      uEvent('click', { session_id: undefined, client_id: undefined }),
    ]);
    expect(rejected.get(1)!.map((p) => p.path)).toEqual([
      'event_attributes.order_id',
      'event_attributes.currency',
      'event_attributes.unit_price_minor',
    ]);
    expect(events[0]!.event['session_id']).toBe('client-1');
    expect(rejected.get(3)).toEqual([{ path: 'session_id', reason: 'required (or client_id)' }]);
  });

  it('shifts ordinals by the configured base and refuses ordinals below it', () => {
    expect(map([uEvent('click')], 0).events[0]!.event['position']).toBe(1);
    expect(map([uEvent('click')], 1).rejected.get(1)).toEqual([
      { path: 'event_attributes.position.ordinal', reason: 'must be at least 1 (ordinals count from 1)' },
    ]);
    const oneBased = uEvent('click', { event_attributes: { object: { object_id: 'B01' }, position: { ordinal: 3 } } });
    expect(map([oneBased], 1).events[0]!.event['position']).toBe(3);
  });

  it('builds an impression from query_response_hit_ids when no impression events came', () => {
    const { events } = map([
      { query_id: 'q-9', user_query: 'Drill', client_id: 'c-9', timestamp: at, query_response_hit_ids: ['A', 'B', 7] },
    ]);
    expect(events[0]!.event).toEqual({
      type: 'search_impression',
      event_id: impressionIdOf('q-9'),
      request_id: 'q-9',
      occurred_at: atMs,
      query: 'Drill',
      user_id: null,
      session_id: 'c-9',
      items: [
        { product_id: 'A', position: 1, retrieval_score: null },
        { product_id: 'B', position: 2, retrieval_score: null },
        { product_id: '7', position: 3, retrieval_score: null },
      ],
    });
  });

  it('rejects a query with nothing to record, and impressions whose query text is unknown', () => {
    const { rejected } = map([
      { query_id: 'q-5', user_query: 'Drill', client_id: 'c', timestamp: at },
      { ...uEvent('impression', { query_id: 'q-6' }) },
    ]);
    expect(rejected.get(1)![0]!.reason).toContain('no results to record: no impression events of query_id "q-5"');
    expect(rejected.get(2)![0]!.path).toBe('user_query');
    expect(rejected.get(2)![0]!.reason).toContain('"q-6"');
  });

  it('rejects a bad impression document alone and keeps the rest of its list', () => {
    const { events, rejected } = map([
      uEvent('impression', { user_query: 'q' }),
      uEvent('impression', { event_attributes: { object: { object_id: 'B\u0007' }, position: { ordinal: 1 } } }),
      uEvent('impression', { event_attributes: { object: { object_id: 'B03' } } }),
      uEvent('impression', { event_attributes: { object: { object_id: 'B04' }, position: { ordinal: 3 } } }),
    ]);
    expect(rejected.get(2)).toEqual([
      { path: 'event_attributes.object.object_id', reason: 'contains the control character U+0007 at offset 1' },
    ]);
    expect(rejected.get(3)).toEqual([
      { path: 'event_attributes.position.ordinal', reason: 'required for impressions' },
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]!.lines).toEqual([1, 4]);
    expect((events[0]!.event['items'] as unknown[]).length).toBe(2);
  });

  it('ids events by the bulk _id, else event_id, else a UUID of the document text', () => {
    const { events } = map([
      { index: { _index: 'ubi_events', _id: 'bulk-1' } },
      uEvent('click'),
      uEvent('click', { event_id: 'own-2' }),
      uEvent('click', { timestamp: atMs }),
    ]);
    expect(events.map((e) => e.event['event_id'])).toEqual([
      'bulk-1',
      'own-2',
      derivedId(`ubi-event:${JSON.stringify(uEvent('click', { timestamp: atMs }))}`),
    ]);
    expect(derivedId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('tells documents that are neither queries nor events apart, by index name first', () => {
    const { documents, rejected } = map([
      { index: { _index: 'ubi_queries' } },
      { query_id: 'q', user_query: 'x', timestamp: at, query_response_hit_ids: ['A'] },
      { something: 'else' },
    ]);
    expect(documents.map((d) => d.kind)).toEqual(['query', 'unknown']);
    expect(rejected.get(3)![0]!.reason).toBe('neither a UBI query (user_query) nor a UBI event (action_name)');
  });

  it('points problems found after mapping back to the UBI field', () => {
    expect(ubiPathOf('occurred_at', 'click')).toBe('timestamp');
    expect(ubiPathOf('items.3.product_id', 'search_impression')).toBe('event_attributes.object.object_id');
    expect(ubiPathOf('device', 'search_impression')).toBe('search_impression.device');
  });
});

describe('parseBulkNdjson', () => {
  it('pairs action lines with documents and gives every document line an entry', () => {
    const docs = parseBulkNdjson(
      [
        '{"index": {"_index": "ubi_events", "_id": "a"}}',
        '{"action_name": "click"}',
        '',
        '{"action_name": "bare"}',
        '{"create": {"_id": 5}}',
        '{oops',
        '{"delete": {"_id": "x"}}',
        '{"update": {"_id": "y"}}',
        '{"doc": {"a": 1}}',
        '{"index": {}}',
      ].join('\r\n'),
    );
    expect(docs.map((d) => [d.line, d.id ?? null, d.error ?? null])).toEqual([
      [2, 'a', null],
      [4, null, null],
      [5, '5', 'bulk action line without a document after it'],
      [6, null, expect.stringMatching(/^malformed JSON: /)],
      [7, 'x', 'bulk action "delete" is not supported; send index or create'],
      [8, 'y', 'bulk action "update" is not supported; send index or create'],
      [10, null, 'bulk action line without a document after it'],
    ]);
    expect(docs[0]!.index).toBe('ubi_events');
  });
});
