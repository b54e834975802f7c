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

  constructor(redis: RedisClient, keys: KeyLayout) {
    this.#redis = redis;
    this.#keys = keys;
    this.#cluster = redis instanceof Cluster;
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
    const entry = tolerant<string | null, CatalogEntry>(decodeCatalogEntry);
    const snapshot: FeatureSnapshot = {
      query: state(queryRaw),
      global: state(globalRaw),
      text: textStats(terms, dfRaw, statsRaw),
      products: productRaw.map(state),
      pairs: pairRaw.map(state),
      catalog: catalogRaw.map(entry),
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
