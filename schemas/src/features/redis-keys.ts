/**
 * Every Redis key SearchOp writes, with its encoding and TTL next to it (BullMQ's toKey idea).
 * Hash tags ({...}) decide the Redis Cluster slot: all of a query's keys (its counters and every
 * query–product pair) share the query's slot, so the ranker reads a query's pairs from one node;
 * a product's counters are in the product's slot. Counter scripts touch one key each.
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
  /** Counters of a product under a normalised query. */
  pairCounters(normalizedQuery: string, productId: string): string;
  /** Counters over all events: the priors of smoothed rates. */
  globalCounters(): string;
  /** Key of any counter entity. */
  counters(entity: EntityRef): string;
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

export function keyLayout(prefix: string): KeyLayout {
  const layout: KeyLayout = {
    counters(entity) {
      switch (entity.kind) {
        case 'product':
          return layout.productCounters(entity.productId);
        case 'query':
          return layout.queryCounters(entity.query);
        case 'pair':
          return layout.pairCounters(entity.query, entity.productId);
        case 'global':
          return layout.globalCounters();
      }
    },
    productCounters: (id) => `${prefix}{p:${id}}:cnt`,
    productCatalog: (id) => `${prefix}{cat}:p:${id}`,
    catalogFences: () => `${prefix}{cat}:fences`,
    queryCounters: (q) => `${prefix}{q:${q}}:cnt`,
    pairCounters: (q, id) => `${prefix}{q:${q}}:p:${id}`,
    globalCounters: () => `${prefix}{g}:cnt`,
    textDocumentFrequency: () => `${prefix}{cat}:df`,
    textStats: () => `${prefix}{cat}:stats`,
  };
  return layout;
}
