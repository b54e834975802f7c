/**
 * Every Redis key SearchOp writes, with its encoding and TTL next to it (BullMQ's toKey idea).
 * Hash tags ({...}) decide the Redis Cluster slot: all of a query's keys (its counters and its
 * query–product pairs) share the query's slot, so the ranker reads a query's pairs from one node;
 * a product's counters are in the product's slot.
 *
 * A query's (query, product) pairs live in one hash, not a key each: an impression moves a pair per
 * product shown, and pairs rarely recur, so a key per pair made ~3 of every 4 values the processor
 * wrote, each with a compare-and-set, fences and an expiry of its own. In the hash, each pair is a
 * field (pairField) holding its EntityState without fences, and one field (PAIR_FENCES_FIELD) holds
 * the fences of the whole hash (an EntityState with fences and no tiles): one fence per source for all
 * of a query's pairs is exact because an event's pairs all belong to its query, and the processor
 * writes the pairs it changes and the fences in one script call.
 */
import type { EntityRef } from './increments.ts';

const DAY_S = 86_400;

export interface KeyLayout {
  /** Behaviour counters of a product (EntityState, binary, see state-codec.ts). */
  productCounters(productId: string): string;
  /**
   * Catalogue entry of a product (CatalogEntry as JSON); no TTL, removed on a DELETE. All catalogue
   * keys share one slot with the text statistics, so that one script updates an entry and the
   * document frequencies atomically (exactly once), and the ranker reads all candidates' entries
   * from one node.
   */
  productCatalog(productId: string): string;
  /** Hash Kafka source → highest catalogue offset applied (the catalogue's exactly-once fence). */
  catalogFences(): string;
  /** Counters of a normalised query (its searches and their outcomes). */
  queryCounters(normalizedQuery: string): string;
  /**
   * Hash of a normalised query's (query, product) pairs: field pairField(productId) → the pair's
   * counters (EntityState, binary, no fences); field PAIR_FENCES_FIELD → the hash's fences (an
   * EntityState with no tiles). The key expires COUNTER_TTL_SECONDS after the last write to any pair.
   */
  queryPairs(normalizedQuery: string): string;
  /** SCAN MATCH pattern of every queryPairs key (the pair pruner finds the hashes with it). */
  queryPairsPattern(): string;
  /** Counters over all events: the priors of smoothed rates. */
  globalCounters(): string;
  /** Where an entity's counters are: a key, or (pairs) a field of a hash. */
  counters(entity: EntityRef): CounterLocation;
  /** Hash term → number of catalogue titles containing it (BM25 document frequency). */
  textDocumentFrequency(): string;
  /** Hash with `documents` and `total_length` of catalogue titles. */
  textStats(): string;
}

/**
 * Counter keys expire this long after their last write: past the 30-day window plus the daily
 * tiles' lateness, an idle key holds only zero windows.
 */
export const COUNTER_TTL_SECONDS = 35 * DAY_S;

/** An entity's counters: the value of `key`, or when `field` is set, that field of the hash at `key`. */
export interface CounterLocation {
  readonly key: string;
  readonly field: string | undefined;
}

/** The field of a pair in its query's pairs hash (prefixed, so no product id can be the fences field). */
export function pairField(productId: string): string {
  return `p:${productId}`;
}

/** The field of a query's pairs hash that holds the fences of all its pairs. */
export const PAIR_FENCES_FIELD = 'f';

export function keyLayout(prefix: string): KeyLayout {
  const layout: KeyLayout = {
    counters(entity) {
      switch (entity.kind) {
        case 'product':
          return { key: layout.productCounters(entity.productId), field: undefined };
        case 'query':
          return { key: layout.queryCounters(entity.query), field: undefined };
        case 'pair':
          return { key: layout.queryPairs(entity.query), field: pairField(entity.productId) };
        case 'global':
          return { key: layout.globalCounters(), field: undefined };
      }
    },
    productCounters: (id) => `${prefix}{p:${id}}:cnt`,
    productCatalog: (id) => `${prefix}{cat}:p:${id}`,
    catalogFences: () => `${prefix}{cat}:fences`,
    queryCounters: (q) => `${prefix}{q:${q}}:cnt`,
    queryPairs: (q) => `${prefix}{q:${q}}:pairs`,
    queryPairsPattern: () => `${globEscape(prefix)}{q:*}:pairs`,
    globalCounters: () => `${prefix}{g}:cnt`,
    textDocumentFrequency: () => `${prefix}{cat}:df`,
    textStats: () => `${prefix}{cat}:stats`,
  };
  return layout;
}

/** `text` as a Redis glob pattern that matches only itself. */
function globEscape(text: string): string {
  return text.replace(/[\\*?[\]^]/g, '\\$&');
}
