import { FEATURE_COUNT, type BehaviourEvent, type ProductChange } from '@searchop/schemas';
import { FeatureReplay, type Candidate } from './replay.ts';

/**
 * Point-in-time training examples for history the ranker never served (first run, new features):
 * events are replayed in event-time order through the feature module, and each impression that is
 * to become an example gets its products' features as of its own occurred_at, computed from the state
 * BEFORE the impression itself is applied — what the ranker would have read from Redis when it ranked
 * that list. No event that comes later in the order can reach an example's features: the state only
 * ever holds events already replayed.
 *
 * Order (the caller's, from the store): occurred_at, then catalogue changes before impressions before
 * clicks, carts and purchases, then Kafka partition and offset. A catalogue change at the instant of an
 * impression is visible to it; another impression at the same instant is not.
 */

export type ReplayEvent = BehaviourEvent | { readonly type: 'product_change'; readonly value: ProductChange };

/** Rank of each event type among events at the same instant (the store's query orders by it too). */
export const EVENT_ORDER: Readonly<Record<ReplayEvent['type'], number>> = {
  product_change: 0,
  search_impression: 1,
  click: 2,
  add_to_cart: 3,
  purchase: 4,
};

export interface ExampleRequest {
  /** The query group the examples belong to. */
  readonly groupId: string;
  /** Label of each shown product that is to be an example; products absent here are not examples. */
  readonly labels: ReadonlyMap<string, number>;
}

export interface ReplayStep {
  readonly event: ReplayEvent;
  /** Set on a search_impression that becomes examples. */
  readonly example?: ExampleRequest;
}

/** The examples of one impression: parallel arrays, features row-major (rows × FEATURE_COUNT). */
export interface ExampleBlock {
  readonly groupId: string;
  readonly timestamp: number;
  readonly normalizedQuery: string;
  readonly productIds: readonly string[];
  readonly positions: readonly number[];
  readonly labels: readonly number[];
  readonly features: Float64Array;
}

export class Backfill {
  readonly replay: FeatureReplay;

  constructor(replay: FeatureReplay = new FeatureReplay()) {
    this.replay = replay;
  }

  /** Applies one event; for an impression to learn from, returns its examples computed just before. */
  step({ event, example }: ReplayStep): ExampleBlock | undefined {
    let block: ExampleBlock | undefined;
    if (event.type === 'product_change') {
      this.replay.applyCatalog(event.value);
      return undefined;
    }
    if (event.type === 'search_impression' && example) {
      block = this.#examples(event.value, example);
      if (block.productIds.length === 0) block = undefined;
    }
    this.replay.applyBehaviour(event);
    return block;
  }

  #examples(impression: Extract<ReplayEvent, { type: 'search_impression' }>['value'], request: ExampleRequest) {
    const candidates: Candidate[] = [];
    const positions: number[] = [];
    const labels: number[] = [];
    const seen = new Set<string>();
    for (const item of impression.items) {
      const label = request.labels.get(item.product_id);
      // A product listed twice is one example, at its first (highest) position.
      if (label === undefined || seen.has(item.product_id)) continue;
      // A sharded replay (a parallel backfill's worker) computes only its own products.
      if (!this.replay.owns(item.product_id)) continue;
      seen.add(item.product_id);
      candidates.push({ productId: item.product_id, retrievalScore: item.retrieval_score ?? Number.NaN });
      positions.push(item.position);
      labels.push(label);
    }
    const features = new Float64Array(candidates.length * FEATURE_COUNT);
    this.replay.features(impression.query, impression.normalized_query, candidates, impression.occurred_at, features);
    return {
      groupId: request.groupId,
      timestamp: impression.occurred_at,
      normalizedQuery: impression.normalized_query,
      productIds: candidates.map((c) => c.productId),
      positions,
      labels,
      features,
    };
  }
}

/** Replays steps in the order given and yields the examples of every impression asked for. */
export function* backfill(steps: Iterable<ReplayStep>, replay?: FeatureReplay): Generator<ExampleBlock> {
  const run = new Backfill(replay);
  for (const step of steps) {
    const block = run.step(step);
    if (block) yield block;
  }
}
