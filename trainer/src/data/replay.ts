import {
  applyIncrements,
  catalogEntryOf,
  emptyState,
  FEATURE_COUNT,
  incrementsOf,
  prepareQuery,
  terms,
  writeFeatures,
  type BehaviourEvent,
  type CatalogEntry,
  type EntityRef,
  type EntityState,
  type Increment,
  type ProductChange,
  type TextStats,
} from '@searchop/schemas';

/**
 * The feature store rebuilt offline: the same increments (incrementsOf) applied with the same tile
 * code (applyIncrements) the stream processor's Lua script mirrors, and the catalogue with the BM25
 * statistics kept the way the catalogue script keeps them. Features are then computed by the feature
 * spec's own writeFeatures, exactly as the ranker computes them from Redis. Pure and in memory.
 */
export class CatalogState {
  readonly entries = new Map<string, CatalogEntry>();
  readonly #documentFrequency = new Map<string, number>();
  #documents = 0;
  #totalLength = 0;

  /** BM25's corpus statistics as they stand now (document frequencies are read live). */
  textStats(): TextStats {
    const documentFrequency = this.#documentFrequency;
    return {
      documents: this.#documents,
      averageLength: this.#documents > 0 ? this.#totalLength / this.#documents : 0,
      documentFrequency: (term) => documentFrequency.get(term) ?? 0,
    };
  }

  /** An upsert replaces the entry and moves document frequencies by the difference in title terms. */
  apply(change: ProductChange): void {
    const old = this.entries.get(change.product_id);
    const next = change.op === 'UPSERT' && change.product ? catalogEntryOf(change.product) : undefined;
    const oldTerms = new Set(old?.t ?? []);
    const newTerms = new Set(next?.t ?? []);
    for (const term of oldTerms) {
      if (newTerms.has(term)) continue;
      const df = (this.#documentFrequency.get(term) ?? 0) - 1;
      if (df <= 0) this.#documentFrequency.delete(term);
      else this.#documentFrequency.set(term, df);
    }
    for (const term of newTerms) {
      if (!oldTerms.has(term)) this.#documentFrequency.set(term, (this.#documentFrequency.get(term) ?? 0) + 1);
    }
    this.#documents += (next ? 1 : 0) - (old ? 1 : 0);
    this.#totalLength += (next?.t.length ?? 0) - (old?.t.length ?? 0);
    if (next) this.entries.set(change.product_id, next);
    else this.entries.delete(change.product_id);
  }
}

/** A shown product whose features are wanted. */
export interface Candidate {
  readonly productId: string;
  /** NaN when the impression carried none. */
  readonly retrievalScore: number;
}

/** An entity's state and the increments not yet applied to it, in event-time order. */
interface Entity {
  readonly state: EntityState;
  pending: Increment[];
}

/** Pending increments per entity before they are applied anyway (bounds memory for entities never read). */
const MAX_PENDING = 64;

/**
 * Which products a replay keeps product and (query, product) counters for: all of them, or one shard
 * of them (shardOf). Query and global counters and the catalogue are always kept whole, since every
 * candidate's features read them.
 */
export interface ProductShard {
  readonly index: number;
  readonly count: number;
}

/**
 * The shard a product belongs to: FNV-1a (32-bit) of its id modulo the shard count, so every worker
 * of a parallel backfill agrees without talking to the others.
 */
export function shardOf(productId: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < productId.length; i++) {
    hash ^= productId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/**
 * The counters of every entity, replayed. Increments are applied lazily: an entity's increments
 * wait until its state is read (or MAX_PENDING of them gather) and are then applied in one
 * applyIncrements call. That gives exactly the state of applying them one by one in time order —
 * the stream processor applies a whole batch per key in one script call the same way: a tile that
 * falls out of retention within the batch is not counted, where one-by-one it would have been
 * counted and then pruned — and saves the per-call scan of the entity's tiles, the replay's main cost.
 */
export class FeatureReplay {
  readonly catalog = new CatalogState();
  readonly #products = new Map<string, Entity>();
  readonly #queries = new Map<string, Entity>();
  /** query → product → entity: no string concatenation per lookup. */
  readonly #pairs = new Map<string, Map<string, Entity>>();
  readonly #global: Entity = { state: emptyState(), pending: [] };
  readonly #shard: ProductShard;

  /**
   * With a shard, product and pair counters are kept only for the shard's products (features of other
   * products are not asked for): N replays with shards 0..N-1 give, between them, exactly the
   * features of one whole replay, each doing about 1/N of the per-product work.
   */
  constructor(shard: ProductShard = { index: 0, count: 1 }) {
    if (!(Number.isInteger(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count)) {
      throw new RangeError(`invalid product shard ${shard.index} of ${shard.count}`);
    }
    this.#shard = shard;
  }

  /** Whether this replay keeps the counters of `productId` (always, unless sharded). */
  owns(productId: string): boolean {
    return this.#shard.count === 1 || shardOf(productId, this.#shard.count) === this.#shard.index;
  }

  applyCatalog(change: ProductChange): void {
    this.catalog.apply(change);
  }

  applyBehaviour(event: BehaviourEvent): void {
    for (const { entity, increment } of incrementsOf(event)) {
      if ((entity.kind === 'product' || entity.kind === 'pair') && !this.owns(entity.productId)) continue;
      const target = this.#entity(entity, true)!;
      target.pending.push(increment);
      if (target.pending.length >= MAX_PENDING) settle(target);
    }
  }

  /** The state of an entity as of every event applied so far (undefined when nothing ever counted for it). */
  state(entity: EntityRef): EntityState | undefined {
    return stateOf(this.#entity(entity, false));
  }

  /**
   * Feature vectors of `candidates` for a search of `query` (as typed: the ranker takes the query
   * terms from it) as of `nowMs`, from the state as it stands: candidates.length × FEATURE_COUNT values,
   * row-major, written to `out` at `offset` (a new array when none is given).
   */
  features(
    query: string,
    normalizedQuery: string,
    candidates: readonly Candidate[],
    nowMs: number,
    out = new Float64Array(candidates.length * FEATURE_COUNT),
    offset = 0,
  ): Float64Array {
    const prepared = prepareQuery({
      queryTerms: terms(query),
      query: stateOf(this.#queries.get(normalizedQuery)),
      global: stateOf(this.#global),
      text: this.catalog.textStats(),
      nowMs,
    });
    const pairs = this.#pairs.get(normalizedQuery);
    for (let i = 0; i < candidates.length; i++) {
      const { productId, retrievalScore } = candidates[i]!;
      writeFeatures(out, offset + i * FEATURE_COUNT, prepared, {
        product: stateOf(this.#products.get(productId)),
        pair: stateOf(pairs?.get(productId)),
        catalog: this.catalog.entries.get(productId),
        retrievalScore,
      });
    }
    return out;
  }

  #entity(entity: EntityRef, create: boolean): Entity | undefined {
    switch (entity.kind) {
      case 'global':
        return this.#global;
      case 'product':
        return lookup(this.#products, entity.productId, create);
      case 'query':
        return lookup(this.#queries, entity.query, create);
      case 'pair': {
        let byProduct = this.#pairs.get(entity.query);
        if (!byProduct) {
          if (!create) return undefined;
          this.#pairs.set(entity.query, (byProduct = new Map<string, Entity>()));
        }
        return lookup(byProduct, entity.productId, create);
      }
    }
  }
}

function settle(entity: Entity): void {
  if (entity.pending.length === 0) return;
  applyIncrements(entity.state, entity.pending);
  entity.pending = [];
}

function stateOf(entity: Entity | undefined): EntityState | undefined {
  if (!entity) return undefined;
  settle(entity);
  return entity.state;
}

function lookup(map: Map<string, Entity>, key: string, create: boolean): Entity | undefined {
  let entity = map.get(key);
  if (!entity && create) map.set(key, (entity = { state: emptyState(), pending: [] }));
  return entity;
}
