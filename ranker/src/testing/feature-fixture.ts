import type { RedisClient } from '@searchop/runtime';
import { randomUUID } from 'node:crypto';
import {
  applyIncrements,
  catalogEntryOf,
  emptyState,
  encodeState,
  incrementsOf,
  normalizeQuery,
  type BehaviourEvent,
  type CounterLocation,
  type EntityState,
  type IoSearchopCatalog,
  type KeyLayout,
} from '@searchop/schemas';
import { locationName } from '@searchop/schemas/testing';

/**
 * Test and benchmark support: feature-store content in exactly the encodings the stream processor
 * writes. Behaviour events go through the spec's own incrementsOf/applyIncrements (what the Lua
 * script applies), catalogue products through catalogEntryOf with the document-frequency and
 * title-length statistics the catalogue script keeps.
 */
export class FeatureFixture {
  readonly #keys: KeyLayout;
  /** Counters by location (key, or key and field), keyed by `locationName`. */
  readonly #states = new Map<string, { location: CounterLocation; state: EntityState }>();
  readonly #catalog = new Map<string, string[]>();
  readonly #entries = new Map<string, string>();

  constructor(keys: KeyLayout) {
    this.#keys = keys;
  }

  behaviour(event: BehaviourEvent): this {
    for (const { entity, increment } of incrementsOf(event)) {
      const location = this.#keys.counters(entity);
      const id = locationName(location);
      let counters = this.#states.get(id);
      if (!counters) this.#states.set(id, (counters = { location, state: emptyState() }));
      applyIncrements(counters.state, [increment]);
    }
    return this;
  }

  product(productId: string, product: IoSearchopCatalog.Product): this {
    const entry = catalogEntryOf(product);
    this.#catalog.set(productId, entry.t);
    this.#entries.set(this.#keys.productCatalog(productId), JSON.stringify(entry));
    return this;
  }

  /**
   * Writes everything, `chunk` commands at a time (replacing what those keys and pair fields held):
   * a key's counters with SET, a query's pairs with one HSET of their fields (no fences field: the
   * ranker does not read it).
   */
  async write(redis: RedisClient, chunk = 5_000): Promise<void> {
    const commands: [string, ...(string | number | Buffer)[]][] = [];
    const hashes = new Map<string, (string | Buffer)[]>();
    for (const { location, state } of this.#states.values()) {
      if (location.field === undefined) {
        commands.push(['set', location.key, encodeState(state)]);
        continue;
      }
      let fields = hashes.get(location.key);
      if (!fields) hashes.set(location.key, (fields = []));
      fields.push(location.field, encodeState(state));
    }
    for (const [key, fields] of hashes) commands.push(['hset', key, ...fields]);
    for (const [key, json] of this.#entries) commands.push(['set', key, json]);
    const df = new Map<string, number>();
    let totalLength = 0;
    for (const terms of this.#catalog.values()) {
      totalLength += terms.length;
      for (const term of new Set(terms)) df.set(term, (df.get(term) ?? 0) + 1);
    }
    if (this.#catalog.size > 0) {
      commands.push(['del', this.#keys.textDocumentFrequency()]);
      for (const [term, count] of df) commands.push(['hset', this.#keys.textDocumentFrequency(), term, count]);
      commands.push(['hset', this.#keys.textStats(), 'documents', this.#catalog.size, 'total_length', totalLength]);
    }
    // Single commands issued together: auto-pipelined, and valid on a cluster (one slot per key).
    for (let i = 0; i < commands.length; i += chunk) {
      await Promise.all(commands.slice(i, i + chunk).map(([name, ...args]) => redis.call(name, ...args)));
    }
  }

  /** Redis keys written (a query's pairs hash counts once). */
  get keyCount(): number {
    const keys = new Set<string>();
    for (const { location } of this.#states.values()) keys.add(location.key);
    return keys.size + this.#entries.size;
  }
}

/** A catalogue product with defaults for the fields a test does not care about. */
export { catalogProduct as product } from '@searchop/schemas/testing';

/** Removes every key under a test's prefix (single Redis). */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  if (!('scanStream' in redis)) return;
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1_000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.del(...keys);
  }
}

/** A search impression of `productIds` at positions 1, 2, … for a query, in session "s". */
export function impressionEvent(query: string, productIds: readonly string[], at: number): BehaviourEvent {
  return {
    type: 'search_impression',
    value: {
      event_id: randomUUID(),
      request_id: null,
      occurred_at: at,
      query,
      normalized_query: normalizeQuery(query),
      user_id: null,
      session_id: 's',
      page: 1,
      device: 'OTHER',
      items: productIds.map((product_id, i) => ({ product_id, position: i + 1, retrieval_score: null })),
    },
  };
}

/** A click on a product, from a search for `query` (null: not from a search). */
export function clickEvent(productId: string, at: number, query: string | null): BehaviourEvent {
  return {
    type: 'click',
    value: {
      event_id: randomUUID(),
      occurred_at: at,
      impression_id: null,
      request_id: null,
      query,
      normalized_query: query === null ? null : normalizeQuery(query),
      user_id: null,
      session_id: 's',
      product_id: productId,
      position: 1,
    },
  };
}
