import { ProducerError, ProducerErrorCode } from '../../errors.ts';

/**
 * The simulated world: a catalogue, the queries shoppers type, and the true graded relevance of every
 * (query, candidate product) pair. Shoppers act on the truth; rankers never see it; evaluation scores
 * served rankings against it.
 */

/** 0 irrelevant, 1 related (accessory, substitute of another kind), 2 relevant, 3 exact and good. */
export type Grade = 0 | 1 | 2 | 3;
export const GRADES: readonly Grade[] = [0, 1, 2, 3];

export interface Product {
  readonly id: string;
  readonly title: string;
  readonly brand: string | null;
  /** Root first, e.g. ["Tools", "Power Tools", "Drills"]; empty when unknown. */
  readonly categoryPath: readonly string[];
  /** Price of one unit in minor units of the world's currency. */
  readonly priceMinor: number;
  /** Mean review rating 1–5, null without reviews. */
  readonly rating: number | null;
  readonly reviewCount: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Query {
  /** As a shopper types it. */
  readonly text: string;
  /** normalizeQuery(text): unique within a world. */
  readonly normalized: string;
  /** Relative popularity: the probability of being searched is weight / sum of weights. */
  readonly weight: number;
  /** What first-stage retrieval returns for the query: the products a ranker orders. */
  readonly candidates: readonly string[];
  /** The true grade of every candidate. */
  readonly grades: ReadonlyMap<string, Grade>;
}

export type WorldSource = 'generated' | 'judgments';

export interface World {
  readonly source: WorldSource;
  /** ISO 4217 code of every price. */
  readonly currency: string;
  readonly products: readonly Product[];
  readonly productById: ReadonlyMap<string, Product>;
  /** Most popular first. */
  readonly queries: readonly Query[];
  readonly queryByNormalized: ReadonlyMap<string, Query>;
}

/** Builds the lookups and checks the world's invariants (unique ids and queries, candidates exist and are graded). */
export function makeWorld(
  source: WorldSource,
  currency: string,
  products: readonly Product[],
  queries: readonly Query[],
): World {
  const productById = new Map<string, Product>();
  for (const p of products) {
    if (productById.has(p.id)) throw invalid(`duplicate product id ${p.id}`);
    productById.set(p.id, p);
  }
  const sorted = [...queries].sort((a, b) => b.weight - a.weight);
  const queryByNormalized = new Map<string, Query>();
  for (const q of sorted) {
    if (queryByNormalized.has(q.normalized)) throw invalid(`duplicate query ${JSON.stringify(q.normalized)}`);
    if (!(q.weight > 0)) throw invalid(`query ${JSON.stringify(q.text)} has no positive weight`);
    if (q.candidates.length === 0) throw invalid(`query ${JSON.stringify(q.text)} has no candidates`);
    for (const id of q.candidates) {
      if (!productById.has(id)) throw invalid(`query ${JSON.stringify(q.text)} has unknown candidate ${id}`);
      if (!q.grades.has(id)) throw invalid(`query ${JSON.stringify(q.text)} has no grade for candidate ${id}`);
    }
    queryByNormalized.set(q.normalized, q);
  }
  if (sorted.length === 0) throw invalid('a world needs at least one query');
  return { source, currency, products, productById, queries: sorted, queryByNormalized };
}

function invalid(message: string): ProducerError {
  return new ProducerError(ProducerErrorCode.INPUT_INVALID, `invalid world: ${message}`);
}
