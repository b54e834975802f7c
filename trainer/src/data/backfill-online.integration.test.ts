import { createRedis, defineConfig, loadConfig, redisEnv } from '@searchop/runtime';
import { uniqueName } from '@searchop/runtime/testing';
import {
  decodeCatalogEntry,
  decodeState,
  FEATURE_COUNT,
  FEATURE_NAMES,
  keyLayout,
  pairField,
  prepareQuery,
  terms,
  topics,
  writeFeatures,
  type BehaviourEvent,
  type ProductChange,
  type SearchImpression,
  type TextStats,
} from '@searchop/schemas';
import { afterAll, describe, expect, inject, it } from 'vitest';
// The stream processor's real writer (Lua scripts on real Redis): the online side of the comparison.
import { FeatureWriter, type SourcedEvent } from '../../../stream-processors/src/features/feature-writer.ts';
import { backfill } from './backfill.ts';
import { exampleSteps, shopHistory } from './testing/event-history.ts';

const redis = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: inject('redisUrl') }));
afterAll(() => redis.quit());

const behaviourTopic = {
  search_impression: topics.impressions,
  click: topics.clicks,
  add_to_cart: topics.addToCarts,
  purchase: topics.purchases,
} as const;

/** The features the ranker would compute from Redis right now, with the feature spec's own function. */
async function onlineFeatures(prefix: string, impression: SearchImpression): Promise<Float64Array> {
  const keys = keyLayout(prefix);
  const products = [...new Set(impression.items.map((i) => i.product_id))];
  const queryTerms = terms(impression.query);
  const distinct = [...new Set(queryTerms)];
  const [documents, totalLength] = await redis.hmget(keys.textStats(), 'documents', 'total_length');
  const frequencies = distinct.length > 0 ? await redis.hmget(keys.textDocumentFrequency(), ...distinct) : [];
  const df = new Map(distinct.map((t, i) => [t, Number(frequencies[i] ?? 0)]));
  const text: TextStats = {
    documents: Number(documents ?? 0),
    averageLength: Number(documents ?? 0) > 0 ? Number(totalLength) / Number(documents) : 0,
    documentFrequency: (t) => df.get(t) ?? 0,
  };
  const prepared = prepareQuery({
    queryTerms,
    query: decodeState(await redis.getBuffer(keys.queryCounters(impression.normalized_query))),
    global: decodeState(await redis.getBuffer(keys.globalCounters())),
    text,
    nowMs: impression.occurred_at,
  });
  const out = new Float64Array(products.length * FEATURE_COUNT);
  for (const [i, productId] of products.entries()) {
    const item = impression.items.find((it) => it.product_id === productId)!;
    writeFeatures(out, i * FEATURE_COUNT, prepared, {
      product: decodeState(await redis.getBuffer(keys.productCounters(productId))),
      pair: decodeState(await redis.hgetBuffer(keys.queryPairs(impression.normalized_query), pairField(productId))),
      catalog: decodeCatalogEntry(await redis.get(keys.productCatalog(productId))),
      retrievalScore: item.retrieval_score ?? Number.NaN,
    });
  }
  return out;
}

describe('backfilled features equal the online ones', () => {
  it('matches the stream processor’s Redis state read back at each checked impression’s instant', async () => {
    const history = shopHistory({ days: 34, seed: 3 });
    const impressions = history.filter((e) => e.type === 'search_impression');
    const checked = new Set(impressions.filter((_, i) => i % 40 === 39).map((e) => e.value.event_id));
    const offline = new Map(
      [...backfill(exampleSteps(history, (i) => checked.has(i.event_id)))].map((b) => [b.groupId, b.features]),
    );

    const prefix = `${uniqueName('trainer-online')}:`;
    const writer = new FeatureWriter(redis, keyLayout(prefix));
    const offsets = new Map<string, number>();
    const sourced = <E>(spec: (typeof topics)[keyof typeof topics], event: E): SourcedEvent<E> => {
      const offset = offsets.get(spec.id) ?? 0;
      offsets.set(spec.id, offset + 1);
      return { spec, partition: 0, offset, event };
    };
    // Events go to Redis in consumer-sized batches of everything before the next checked impression.
    let behaviour: SourcedEvent<BehaviourEvent>[] = [];
    let catalog: SourcedEvent<ProductChange>[] = [];
    const flush = async () => {
      for (let i = 0; i < catalog.length; i += 200) await writer.applyCatalog(catalog.slice(i, i + 200));
      for (let i = 0; i < behaviour.length; i += 500) await writer.applyBehaviour(behaviour.slice(i, i + 500));
      behaviour = [];
      catalog = [];
    };
    let compared = 0;
    for (const event of history) {
      if (event.type === 'search_impression' && checked.has(event.value.event_id)) {
        await flush();
        const online = await onlineFeatures(prefix, event.value);
        const expected = offline.get(event.value.event_id)!;
        expect(online.length).toBe(expected.length);
        for (let i = 0; i < online.length; i++) {
          if (!Object.is(online[i], expected[i])) {
            expect.fail(
              `impression ${event.value.event_id}, row ${Math.floor(i / FEATURE_COUNT)}, ` +
                `${FEATURE_NAMES[i % FEATURE_COUNT]}: online ${online[i]} vs backfill ${expected[i]}`,
            );
          }
        }
        compared += online.length / FEATURE_COUNT;
      }
      if (event.type === 'product_change') catalog.push(sourced(topics.catalog, event.value));
      else behaviour.push(sourced(behaviourTopic[event.type], event));
    }
    expect(checked.size).toBeGreaterThanOrEqual(20);
    expect(compared).toBeGreaterThanOrEqual(checked.size * 6);
  }, 300_000);
});
