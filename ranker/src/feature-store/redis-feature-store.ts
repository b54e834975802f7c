import { Cluster } from 'ioredis';
import type { RedisClient } from '@searchop/runtime';
import {
  decodeCatalogEntry,
  decodeState,
  type CatalogEntry,
  type EntityState,
  type KeyLayout,
  type TextStats,
} from '@searchop/schemas';
import type { FeatureSnapshot } from '../scoring/feature-matrix.ts';

/** A feature snapshot plus what the store could not read. */
export interface FetchedFeatures {
  readonly snapshot: FeatureSnapshot;
  /** Values present but undecodable (an unknown encoding version): served as missing. */
  readonly corrupt: number;
}

export interface FeatureStore {
  fetch(
    normalizedQuery: string,
    queryTerms: readonly string[],
    productIds: readonly string[],
  ): Promise<FetchedFeatures>;
}

/**
 * Reads every feature of one request from Redis in one round trip: all commands are issued in the
 * same tick, so ioredis' auto-pipelining sends them as one pipeline (one per node on a cluster).
 * A query's pair keys share the query's hash slot and catalogue keys share {cat}, so each is one
 * MGET even on a cluster; product counters live in each product's own slot, so on a cluster they are
 * single GETs (still in the same pipeline), and one MGET on a single Redis.
 */
export class RedisFeatureStore implements FeatureStore {
  readonly #redis: RedisClient;
  readonly #keys: KeyLayout;
  readonly #cluster: boolean;
  readonly #catalog: CatalogEntryCache;

  constructor(redis: RedisClient, keys: KeyLayout, { catalogCacheEntries = 50_000 } = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cluster = redis instanceof Cluster;
    this.#catalog = new CatalogEntryCache(catalogCacheEntries);
  }

  async fetch(normalizedQuery: string, queryTerms: readonly string[], productIds: readonly string[]) {
    const redis = this.#redis;
    const keys = this.#keys;
    const terms = [...new Set(queryTerms)];
    const productKeys = productIds.map((id) => keys.productCounters(id));
    const products = this.#cluster
      ? Promise.all(productKeys.map((key) => redis.getBuffer(key)))
      : productIds.length > 0
        ? redis.mgetBuffer(productKeys)
        : Promise.resolve([]);
    const pairs =
      productIds.length > 0
        ? redis.mgetBuffer(productIds.map((id) => keys.pairCounters(normalizedQuery, id)))
        : Promise.resolve([]);
    const catalog =
      productIds.length > 0 ? redis.mget(productIds.map((id) => keys.productCatalog(id))) : Promise.resolve([]);
    const query = redis.getBuffer(keys.queryCounters(normalizedQuery));
    const global = redis.getBuffer(keys.globalCounters());
    const frequencies = terms.length > 0 ? redis.hmget(keys.textDocumentFrequency(), ...terms) : Promise.resolve([]);
    const stats = redis.hmget(keys.textStats(), 'documents', 'total_length');
    const [productRaw, pairRaw, catalogRaw, queryRaw, globalRaw, dfRaw, statsRaw] = await Promise.all([
      products,
      pairs,
      catalog,
      query,
      global,
      frequencies,
      stats,
    ]);

    let corrupt = 0;
    // An undecodable value (an unknown encoding version) is served as missing, and counted.
    const tolerant =
      <Raw, Value>(decode: (raw: Raw) => Value | undefined) =>
      (raw: Raw): Value | undefined => {
        try {
          return decode(raw);
        } catch {
          corrupt++;
          return undefined;
        }
      };
    const state = tolerant<Buffer | null, EntityState>(decodeState);
    const decodeEntry = tolerant<string | null, CatalogEntry>(decodeCatalogEntry);
    const cache = this.#catalog;
    const catalogEntries = catalogRaw.map((raw, i) => cache.get(productIds[i]!, raw, decodeEntry));
    const snapshot: FeatureSnapshot = {
      query: state(queryRaw),
      global: state(globalRaw),
      text: textStats(terms, dfRaw, statsRaw),
      products: productRaw.map(state),
      pairs: pairRaw.map(state),
      catalog: catalogEntries,
    };
    return { snapshot, corrupt };
  }
}

/** BM25's corpus statistics from the text-stats hash and the query terms' document frequencies. */
function textStats(terms: readonly string[], frequencies: readonly (string | null)[], stats: (string | null)[]) {
  const documents = Number(stats[0] ?? 0) || 0;
  const totalLength = Number(stats[1] ?? 0) || 0;
  const df = new Map<string, number>();
  terms.forEach((term, i) => df.set(term, Number(frequencies[i] ?? 0) || 0));
  const text: TextStats = {
    documents,
    averageLength: documents > 0 ? totalLength / documents : 0,
    documentFrequency: (term) => df.get(term) ?? 0,
  };
  return text;
}

/**
 * Decoded catalogue entries by product id, each kept with the exact string Redis returned for it: a
 * hit is served only when this request read the very same value (a string comparison instead of a
 * JSON.parse), so a cached entry is never stale: features equal what Redis holds at the request's
 * read. Catalogue entries change rarely, so nearly every read is a hit. Bounded: beyond `capacity`
 * the least recently inserted entries go (a Map keeps insertion order). Entries are shared between
 * requests and must not be mutated (the feature code only reads them).
 */
export class CatalogEntryCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, { raw: string; entry: CatalogEntry | undefined }>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(
    productId: string,
    raw: string | null,
    decode: (raw: string | null) => CatalogEntry | undefined,
  ): CatalogEntry | undefined {
    if (raw === null) return undefined;
    const cached = this.#entries.get(productId);
    if (cached !== undefined && cached.raw === raw) return cached.entry;
    const entry = decode(raw);
    // An undecodable value is not cached: it is decoded (and counted as corrupt) on each read.
    if (entry === undefined || this.#capacity <= 0) return entry;
    if (cached !== undefined) this.#entries.delete(productId);
    else if (this.#entries.size >= this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(productId, { raw, entry });
    return entry;
  }
}
