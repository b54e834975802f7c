import type { Retrieval } from './retrieval.ts';
import { Rng } from './rng.ts';
import { ndcgAt } from './world/metrics.ts';
import type { World } from './world/types.ts';

export interface WorldSummary {
  readonly source: World['source'];
  readonly products: number;
  readonly queries: number;
  readonly judgments: number;
  /** Judgments per grade 0..3. */
  readonly grades: readonly [number, number, number, number];
  /** Popularity-weighted NDCG@10 of the baselines against the truth: where a learned ranker starts from. */
  readonly ndcg10: { readonly text: number; readonly random: number };
}

/** Sizes, grade mix and the baselines' quality, so a world can be judged before shoppers run on it. */
export function summarizeWorld(world: World, retrieval: Retrieval): WorldSummary {
  const grades: [number, number, number, number] = [0, 0, 0, 0];
  const rng = Rng.seeded(0, 'summary');
  let text = 0;
  let random = 0;
  let weight = 0;
  for (const q of world.queries) {
    for (const g of q.grades.values()) grades[g]++;
    const order = retrieval.retrieve(q).map((c) => c.productId);
    text += q.weight * ndcgAt(10, order, q.grades);
    random += q.weight * ndcgAt(10, rng.shuffle([...order]), q.grades);
    weight += q.weight;
  }
  return {
    source: world.source,
    products: world.products.length,
    queries: world.queries.length,
    judgments: grades.reduce((a, b) => a + b, 0),
    grades,
    ndcg10: { text: text / weight, random: random / weight },
  };
}
