import type { SimEvent } from '../sinks/sink.ts';
import type { Ranker, RankRequest, Ranking } from './ranker.ts';

/** A uniformly random order: the baseline every other ranker must beat, and unbiased exploration data. */
export function randomRanker(): Ranker {
  return {
    name: 'random',
    rank: async ({ candidates, rng }: RankRequest): Promise<Ranking> => ({
      productIds: rng.shuffle(candidates.map((c) => c.productId)),
      requestId: null,
    }),
  };
}

/** Retrieval order: BM25 of the title, the text-only baseline. */
export function textRanker(): Ranker {
  return {
    name: 'text',
    rank: async ({ candidates }: RankRequest): Promise<Ranking> => {
      const sorted = candidates.every((c, i) => i === 0 || candidates[i - 1]!.retrievalScore >= c.retrievalScore);
      const ordered = sorted
        ? candidates
        : candidates
            .map((c, i) => ({ c, i }))
            .sort((a, b) => b.c.retrievalScore - a.c.retrievalScore || a.i - b.i)
            .map(({ c }) => c);
      return { productIds: ordered.map((c) => c.productId), requestId: null };
    },
  };
}

/**
 * Most-clicked first, counting every click the simulation has emitted so far for the product (over all
 * queries): the popularity baseline. Products not clicked yet keep their retrieval order behind.
 */
export class PopularityRanker implements Ranker {
  readonly name = 'popularity';
  readonly #clicks = new Map<string, number>();

  async rank({ candidates }: RankRequest): Promise<Ranking> {
    return {
      productIds: candidates
        .map((c, i) => ({ id: c.productId, clicks: this.#clicks.get(c.productId) ?? 0, i }))
        .sort((a, b) => b.clicks - a.clicks || a.i - b.i)
        .map((x) => x.id),
      requestId: null,
    };
  }

  observe(event: SimEvent): void {
    if (event.type === 'click')
      this.#clicks.set(event.event.product_id, (this.#clicks.get(event.event.product_id) ?? 0) + 1);
  }

  clicksOf(productId: string): number {
    return this.#clicks.get(productId) ?? 0;
  }
}
