import { FEATURE_COUNT, FEATURE_INDEX, terms, type SearchImpression } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { backfill, type ExampleBlock, type ReplayEvent } from './backfill.ts';
import { CatalogState, FeatureReplay, shardOf } from './replay.ts';
import { exampleSteps, shopHistory } from './testing/event-history.ts';

const history = shopHistory({ days: 36 });
// Replaying the history a few dozen times takes seconds on a busy 2-core machine.
const SLOW = 60_000;
const impressions = history
  .map((event, index) => ({ event, index }))
  .filter(
    (e): e is { event: Extract<ReplayEvent, { type: 'search_impression' }>; index: number } =>
      e.event.type === 'search_impression',
  );

function examplesOf(events: readonly ReplayEvent[], wanted: ReadonlySet<string>): Map<string, ExampleBlock> {
  return new Map(
    [...backfill(exampleSteps(events, (i) => wanted.has(i.event_id)))].map((block) => [block.groupId, block]),
  );
}

const sample = impressions.filter((_, i) => i % Math.floor(impressions.length / 20) === 7);
const everything = examplesOf(history, new Set(impressions.map((i) => i.event.value.event_id)));
const feature = (block: ExampleBlock, row: number, name: string) =>
  block.features[row * FEATURE_COUNT + FEATURE_INDEX.get(name)!]!;

describe('backfill: point-in-time features', () => {
  it('builds one example per distinct shown product, at its first position, with the impression time', () => {
    expect(everything.size).toBe(impressions.length);
    for (const { event } of impressions) {
      const block = everything.get(event.value.event_id)!;
      const distinct = [...new Set(event.value.items.map((i) => i.product_id))];
      expect(block.productIds).toEqual(distinct);
      expect(block.positions).toEqual(
        distinct.map((id) => event.value.items.find((i) => i.product_id === id)!.position),
      );
      expect(block.features).toHaveLength(distinct.length * FEATURE_COUNT);
      expect(block.timestamp).toBe(event.value.occurred_at);
    }
  });

  it(
    'gives the same features when every later event is deleted',
    () => {
      expect(sample.length).toBeGreaterThanOrEqual(20);
      for (const { event, index } of sample) {
        const id = event.value.event_id;
        const alone = examplesOf(history.slice(0, index + 1), new Set([id])).get(id)!;
        expect([...alone.features]).toEqual([...everything.get(id)!.features]);
      }
    },
    SLOW,
  );

  it(
    'gives the same features when every later event is changed to hit the example’s own products and query',
    () => {
      for (const { event, index } of sample) {
        const target = event.value;
        const mutated = history.map((e, i) => (i <= index ? e : retarget(e, target)));
        const id = target.event_id;
        expect([...examplesOf(mutated, new Set([id])).get(id)!.features]).toEqual([...everything.get(id)!.features]);
      }
    },
    SLOW,
  );

  it('does see earlier events: removing the clicks before an impression changes its click features', () => {
    const { event, index } = sample.at(-1)!;
    const id = event.value.event_id;
    const withoutClicks = history.filter((e, i) => i > index || e.type !== 'click');
    const changed = examplesOf(withoutClicks, new Set([id])).get(id)!;
    const original = everything.get(id)!;
    const clicks = (b: ExampleBlock) => b.productIds.map((_, r) => feature(b, r, 'product_clicks_30d'));
    expect(clicks(original).some((c) => c > 0)).toBe(true);
    expect(clicks(changed).every((c) => c === 0)).toBe(true);
  });

  it('shows an impression the catalogue changes of its instant but not the clicks of its instant', () => {
    const at = Date.UTC(2026, 5, 1);
    const impression: SearchImpression = {
      event_id: 'imp',
      request_id: null,
      occurred_at: at,
      query: 'Drill',
      normalized_query: 'drill',
      user_id: null,
      session_id: 's',
      page: 1,
      device: 'OTHER',
      items: [{ product_id: 'p', position: 1, retrieval_score: 2.5 }],
    };
    const click = {
      event_id: 'k',
      occurred_at: at,
      impression_id: 'imp',
      request_id: null,
      query: 'Drill',
      normalized_query: 'drill',
      user_id: null,
      session_id: 's',
      product_id: 'p',
      position: 1,
    };
    const events: ReplayEvent[] = [
      {
        type: 'product_change',
        value: {
          event_id: 'c',
          occurred_at: at,
          product_id: 'p',
          op: 'UPSERT',
          product: {
            title: 'Cordless Drill',
            brand: null,
            category_path: [],
            price_minor: 4999,
            currency: 'EUR',
            rating: 4.5,
            review_count: 12,
            available: true,
            released_at: null,
            attributes: {},
          },
        },
      },
      { type: 'search_impression', value: impression },
      { type: 'click', value: click },
    ];
    const [block] = [...backfill(exampleSteps(events, () => true))];
    expect(feature(block!, 0, 'price')).toBe(49.99);
    expect(feature(block!, 0, 'text_coverage')).toBe(1);
    expect(feature(block!, 0, 'retrieval_score')).toBe(2.5);
    expect(feature(block!, 0, 'product_clicks_1h')).toBe(0);
    expect(feature(block!, 0, 'product_impressions_1h')).toBe(0);
    expect(Number.isNaN(feature(block!, 0, 'product_hours_since_click'))).toBe(true);
  });
});

describe('backfill sharded by product (the parallel backfill’s workers)', () => {
  it(
    'gives, over the shards, exactly the rows of the whole replay, each shard its own products',
    () => {
      const wanted = new Set(impressions.map((i) => i.event.value.event_id));
      const count = 3;
      const rows = new Map<string, number[]>();
      const owners = new Set<number>();
      for (let index = 0; index < count; index++) {
        const steps = exampleSteps(history, (i) => wanted.has(i.event_id));
        for (const block of backfill(steps, new FeatureReplay({ index, count }))) {
          block.productIds.forEach((productId, r) => {
            expect(shardOf(productId, count)).toBe(index);
            owners.add(index);
            const key = `${block.groupId}/${productId}/${block.positions[r]}/${block.labels[r]}`;
            expect(rows.has(key)).toBe(false);
            rows.set(key, [...block.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT)]);
          });
        }
      }
      expect(owners.size).toBe(count);
      const whole = [...everything.values()].flatMap((block) =>
        block.productIds.map((productId, r) => ({
          key: `${block.groupId}/${productId}/${block.positions[r]}/${block.labels[r]}`,
          features: [...block.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT)],
        })),
      );
      expect(rows.size).toBe(whole.length);
      for (const { key, features } of whole) expect(rows.get(key)).toEqual(features);
    },
    SLOW,
  );

  it('refuses a shard outside 0..count-1', () => {
    expect(() => new FeatureReplay({ index: 2, count: 2 })).toThrow(RangeError);
  });
});

describe('catalogue state', () => {
  it('keeps document frequencies and lengths equal to a recount of the live entries', () => {
    const catalog = new CatalogState();
    for (const event of history) if (event.type === 'product_change') catalog.apply(event.value);
    expect(catalog.entries.has('p5')).toBe(false);
    expect(catalog.entries.get('p3')?.t).toEqual(terms('cordless drill hammer steel'));
    const stats = catalog.textStats();
    const entries = [...catalog.entries.values()];
    expect(stats.documents).toBe(entries.length);
    expect(stats.averageLength).toBeCloseTo(entries.reduce((n, e) => n + e.t.length, 0) / entries.length, 12);
    for (const term of ['drill', 'cordless', 'lamp', 'nothing']) {
      expect(stats.documentFrequency(term)).toBe(entries.filter((e) => e.t.includes(term)).length);
    }
  });
});

/** The same event aimed at the target's query and first product (times unchanged). */
function retarget(event: ReplayEvent, target: SearchImpression): ReplayEvent {
  const productId = target.items[0]!.product_id;
  switch (event.type) {
    case 'search_impression':
      return {
        type: event.type,
        value: {
          ...event.value,
          query: target.query,
          normalized_query: target.normalized_query,
          items: target.items,
        },
      };
    case 'click':
    case 'add_to_cart':
    case 'purchase':
      return {
        ...event,
        value: { ...event.value, product_id: productId, normalized_query: target.normalized_query },
      } as ReplayEvent;
    case 'product_change':
      return {
        type: event.type,
        value: { ...event.value, product_id: productId, op: 'DELETE', product: null },
      };
  }
}
