import { isRedisCluster, type RedisClient } from '@searchop/runtime';
import {
  decodeCatalogEntry,
  decodeState,
  pairField,
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
 * Reads every feature of one request from Redis in one round trip. On a single Redis that is four
 * commands: one MGET of every binary and catalogue value held in a key of its own (the candidates'
 * product counters and catalogue entries, the query's and the global counters), one HMGET of the
 * candidates' pairs from the query's pairs hash, and the two text-statistics HMGETs, issued in the
 * same tick so ioredis' auto-pipelining sends them together. Each command costs the client a command
 * object, a promise and a reply of its own, so one MGET of 2n + 2 keys is cheaper than four commands
 * for the same keys. On a cluster, keys are grouped by slot instead: a query's pairs hash is in the
 * query's hash slot (one HMGET) and catalogue keys share {cat} (one MGET); product counters live in
 * each product's own slot, so they are single GETs (still in the same pipeline, one per node).
 */
export class RedisFeatureStore implements FeatureStore {
  readonly #redis: RedisClient;
  readonly #keys: KeyLayout;
  readonly #cluster: boolean;
  readonly #catalog: CatalogEntryCache;

  constructor(redis: RedisClient, keys: KeyLayout, { catalogCacheEntries = 50_000 } = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cluster = isRedisCluster(redis);
    this.#catalog = new CatalogEntryCache(catalogCacheEntries);
  }

  async fetch(normalizedQuery: string, queryTerms: readonly string[], productIds: readonly string[]) {
    const redis = this.#redis;
    const keys = this.#keys;
    const terms = [...new Set(queryTerms)];
    const frequencies = terms.length > 0 ? redis.hmget(keys.textDocumentFrequency(), ...terms) : Promise.resolve([]);
    const stats = redis.hmget(keys.textStats(), 'documents', 'total_length');
    const values = this.#cluster
      ? this.#readClustered(normalizedQuery, productIds)
      : this.#readSingle(normalizedQuery, productIds);
    const [raw, dfRaw, statsRaw] = await Promise.all([values, frequencies, stats]);

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
    const decodeEntry = tolerant<Buffer, CatalogEntry>(decodeCatalogEntry);
    const n = productIds.length;
    const products = new Array<EntityState | undefined>(n);
    const pairs = new Array<EntityState | undefined>(n);
    const catalog = new Array<CatalogEntry | undefined>(n);
    const cache = this.#catalog;
    for (let i = 0; i < n; i++) {
      products[i] = state(raw.products[i] ?? null);
      pairs[i] = state(raw.pairs[i] ?? null);
      catalog[i] = cache.get(productIds[i]!, raw.catalog[i] ?? null, decodeEntry);
    }
    const snapshot: FeatureSnapshot = {
      query: state(raw.query),
      global: state(raw.global),
      text: textStats(terms, dfRaw, statsRaw),
      products,
      pairs,
      catalog,
    };
    return { snapshot, corrupt };
  }

  /**
   * One MGET (n product counters, n catalogue entries, then the query's and the global counters) and
   * one HMGET of the n pairs' fields of the query's pairs hash, sent in the same pipeline.
   */
  async #readSingle(normalizedQuery: string, productIds: readonly string[]): Promise<RawValues> {
    const keys = this.#keys;
    const n = productIds.length;
    const names = new Array<string>(2 * n + 2);
    const fields = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const id = productIds[i]!;
      names[i] = keys.productCounters(id);
      names[n + i] = keys.productCatalog(id);
      fields[i] = pairField(id);
    }
    names[2 * n] = keys.queryCounters(normalizedQuery);
    names[2 * n + 1] = keys.globalCounters();
    const [values, pairs] = await Promise.all([
      this.#redis.mgetBuffer(names),
      n > 0 ? this.#redis.hmgetBuffer(keys.queryPairs(normalizedQuery), ...fields) : [],
    ]);
    return {
      products: values.slice(0, n),
      pairs,
      catalog: values.slice(n, 2 * n),
      query: values[2 * n] ?? null,
      global: values[2 * n + 1] ?? null,
    };
  }

  /** Per slot: the product counters' GETs, one HMGET of the query's pairs hash, one MGET of catalogue entries. */
  async #readClustered(normalizedQuery: string, productIds: readonly string[]): Promise<RawValues> {
    const redis = this.#redis;
    const keys = this.#keys;
    const some = productIds.length > 0;
    const [products, pairs, catalog, query, global] = await Promise.all([
      Promise.all(productIds.map((id) => redis.getBuffer(keys.productCounters(id)))),
      some ? redis.hmgetBuffer(keys.queryPairs(normalizedQuery), ...productIds.map(pairField)) : [],
      some ? redis.mgetBuffer(productIds.map((id) => keys.productCatalog(id))) : [],
      redis.getBuffer(keys.queryCounters(normalizedQuery)),
      redis.getBuffer(keys.globalCounters()),
    ]);
    return { products, pairs, catalog, query, global };
  }
}

/** The raw values of one request, indexed like the candidates. */
interface RawValues {
  readonly products: readonly (Buffer | null)[];
  readonly pairs: readonly (Buffer | null)[];
  readonly catalog: readonly (Buffer | null)[];
  readonly query: Buffer | null;
  readonly global: Buffer | null;
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
 * Decoded catalogue entries by product id, each kept with the exact bytes Redis returned for it: a
 * hit is served only when this request read the very same value (a byte comparison instead of a
 * UTF-8 decode and a JSON.parse), so a cached entry is never stale: features equal what Redis holds
 * at the request's read. Catalogue entries change rarely, so nearly every read is a hit. Bounded: beyond `capacity`
 * the least recently inserted entries go (a Map keeps insertion order). Entries are shared between
 * requests and must not be mutated (the feature code only reads them).
 */
export class CatalogEntryCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, { raw: Buffer; entry: CatalogEntry }>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(
    productId: string,
    raw: Buffer | null,
    decode: (raw: Buffer) => CatalogEntry | undefined,
  ): CatalogEntry | undefined {
    if (raw === null) return undefined;
    const cached = this.#entries.get(productId);
    if (cached !== undefined && cached.raw.equals(raw)) return cached.entry;
    const entry = decode(raw);
    // An undecodable value is not cached: it is decoded (and counted as corrupt) on each read.
    if (entry === undefined || this.#capacity <= 0) return entry;
    if (cached !== undefined) this.#entries.delete(productId);
    else if (this.#entries.size >= this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    // A copy: the reply's bytes are a view of the client's read buffer, which a cache must not pin.
    this.#entries.set(productId, { raw: Buffer.from(raw), entry });
    return entry;
  }
}
