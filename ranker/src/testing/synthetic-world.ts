import { existsSync, readFileSync } from 'node:fs';

import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  applyIncrements,
  emptyState,
  encodeState,
  keyLayout,
  normalizeQuery,
  pairField,
  terms,
  type Increment,
  type KeyLayout,
} from '@searchop/schemas';
import type { RedisClient } from '@searchop/runtime';
import { FeatureFixture, product } from './feature-fixture.ts';

const ICECAT = fileURLToPath(new URL('../../../../shared/data/icecat/products.jsonl.gz', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface WorldOptions {
  readonly products: number;
  readonly queries: number;
  /** Candidates per query that have query–product history. */
  readonly pairsPerQuery: number;
  readonly nowMs: number;
  readonly seed: number;
}

export interface World {
  readonly titleSource: string;
  readonly productIds: readonly string[];
  readonly queries: readonly { readonly query: string; readonly matching: readonly string[] }[];
  /** Redis keys written (a query's pairs hash counts once). */
  readonly keys: number;
  /** Query–product pairs written: fields of the queries' pairs hashes. */
  readonly pairFields: number;
}

/** A deterministic generator (mulberry32): the same world and requests in every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Catalogue titles: the real Icecat catalogue when ../shared/data has it, else generated ones (said so). */
function titles(count: number, random: () => number): { source: string; titles: string[] } {
  if (existsSync(ICECAT)) {
    const lines = gunzipSync(readFileSync(ICECAT)).toString('utf8').split('\n');
    const out: string[] = [];
    for (const line of lines) {
      if (out.length >= count) break;
      if (!line) continue;
      const title = (JSON.parse(line) as { title?: unknown }).title;
      if (typeof title === 'string' && title.trim() !== '') out.push(title);
    }
    return { source: `Icecat catalogue (${ICECAT})`, titles: out };
  }
  const words = Array.from({ length: 3_000 }, (_, i) => `w${i.toString(36)}`);
  const zipf = () => words[Math.floor(words.length * random() ** 3)]!;
  const out = Array.from({ length: count }, () => Array.from({ length: 4 + Math.floor(random() * 8) }, zipf).join(' '));
  return { source: `generated titles (${ICECAT} is absent)`, titles: out };
}

/**
 * Feature-store content shaped like a live shop: a catalogue with real titles, products whose
 * popularity follows a power law (a few with events in every tile of every window, most with a
 * handful, some with none), queries made of title terms, and query–product history for each query's
 * best-matching products. Written in the stream processor's encodings under `prefix`.
 */
export async function writeWorld(redis: RedisClient, prefix: string, options: WorldOptions): Promise<World> {
  const random = seededRandom(options.seed);
  const keys: KeyLayout = keyLayout(prefix);
  const fixture = new FeatureFixture(keys);
  const source = titles(options.products, random);
  const productIds = source.titles.map((_, i) => `sku-${100_000 + i}`);
  const now = options.nowMs;

  const history = (activity: number): Increment[] => {
    const out: Increment[] = [];
    const events = Math.floor(activity);
    for (let e = 0; e < events; e++) {
      // Recent tiles are denser: half of the events in the last day, the rest over 30 days.
      const age = random() < 0.5 ? random() * DAY : random() * 30 * DAY;
      const impressions = 1 + Math.floor(random() * 20);
      const clicks = random() < 0.3 ? 1 + Math.floor(random() * 3) : 0;
      out.push({
        at: now - age,
        counts: {
          impressions,
          clicks,
          carts: clicks > 0 && random() < 0.3 ? 1 : 0,
          purchases: clicks > 0 && random() < 0.1 ? 1 : 0,
        },
      });
    }
    return out;
  };
  const encoded = (increments: Increment[]) => {
    const state = emptyState();
    applyIncrements(state, increments);
    return encodeState(state);
  };
  const states: [string, Buffer][] = [];
  const put = (key: string, increments: Increment[]) => {
    if (increments.length > 0) states.push([key, encoded(increments)]);
  };
  /** Each query's pairs hash: key and its fields and values, written with one HSET. */
  const pairs: [string, (string | Buffer)[]][] = [];

  const index = new Map<string, number[]>();
  source.titles.forEach((title, i) => {
    const id = productIds[i]!;
    fixture.product(
      id,
      product(title, {
        price_minor: random() < 0.9 ? Math.floor(500 + random() * 200_000) : null,
        rating: random() < 0.7 ? Math.round(random() * 50) / 10 : null,
        review_count: Math.floor(random() ** 4 * 2_000),
        released_at: random() < 0.8 ? now - Math.floor(random() * 1_500) * DAY : null,
        available: random() < 0.95,
      }),
    );
    // Power-law popularity: activity ~ 400 · u^6, so ~10% of products have > 100 events.
    if (random() < 0.85) put(keys.productCounters(id), history(400 * random() ** 6 + 1));
    for (const term of new Set(terms(title))) {
      const list = index.get(term);
      if (list) list.push(i);
      else index.set(term, [i]);
    }
  });

  const queries: { query: string; matching: string[] }[] = [];
  for (let q = 0; q < options.queries; q++) {
    const title = source.titles[Math.floor(random() * source.titles.length)]!;
    const words = terms(title).filter((t) => t.length > 2);
    if (words.length === 0) continue;
    const count = 1 + Math.floor(random() * Math.min(3, words.length));
    const start = Math.floor(random() * (words.length - count + 1));
    const query = words.slice(start, start + count).join(' ');
    const normalized = normalizeQuery(query);
    const matching = [...new Set(terms(query).flatMap((t) => index.get(t) ?? []))].map((i) => productIds[i]!);
    queries.push({ query, matching });
    put(keys.queryCounters(normalized), history(50 + random() * 300));
    const fields: (string | Buffer)[] = [];
    for (const id of matching.slice(0, options.pairsPerQuery)) {
      const increments = history(random() ** 3 * 60 + 1);
      if (increments.length > 0) fields.push(pairField(id), encoded(increments));
    }
    if (fields.length > 0) pairs.push([keys.queryPairs(normalized), fields]);
  }
  put(keys.globalCounters(), history(5_000));

  await fixture.write(redis);
  for (let i = 0; i < states.length; i += 5_000) {
    await Promise.all(states.slice(i, i + 5_000).map(([key, value]) => redis.set(key, value)));
  }
  for (let i = 0; i < pairs.length; i += 1_000) {
    await Promise.all(pairs.slice(i, i + 1_000).map(([key, fields]) => redis.hset(key, ...fields)));
  }
  const pairFields = pairs.reduce((sum, [, fields]) => sum + fields.length / 2, 0);
  return {
    titleSource: source.source,
    productIds,
    queries,
    keys: states.length + pairs.length + fixture.keyCount,
    pairFields,
  };
}

/** The k candidates of a request: the query's matching products first, then other products, with retrieval scores. */
export function candidatesFor(
  world: World,
  query: { readonly matching: readonly string[] },
  k: number,
  random: () => number,
): { product_id: string; retrieval_score: number }[] {
  const chosen = new Set<string>(query.matching.slice(0, k));
  while (chosen.size < k) chosen.add(world.productIds[Math.floor(random() * world.productIds.length)]!);
  return [...chosen].map((id, i) => ({
    product_id: id,
    retrieval_score: Math.round((30 - i * (25 / k)) * 1000) / 1000,
  }));
}
