import type { Rng } from './rng.ts';
import type { Grade } from './world/types.ts';

type PerGrade = readonly [number, number, number, number];

/**
 * A shopper's browsing of one results page, as the dynamic Bayesian network click model (DBN;
 * Chapelle & Zhang, "A dynamic Bayesian network click model for web search ranking", WWW 2009; see
 * Chuklin, Markov & de Rijke, "Click Models for Web Search", 2015, §3.8), a cascade model with
 * graded attractiveness and satisfaction:
 *  - results are examined top-down, the first always;
 *  - an examined result is clicked with probability attractiveness[grade];
 *  - a click satisfies with probability satisfaction[grade], and a satisfied shopper stops;
 *  - otherwise the next result is examined with probability `persistence` (γ), so the probability of
 *    examining rank r without a satisfying click decays as γ^(r−1): the position bias.
 * Clicked products go to the cart with probability cart[grade]; at checkout each cart line is bought
 * with probability purchase[grade]. Purchases ≤ carts ≤ clicks by construction.
 */
export interface ClickModelParams {
  readonly attractiveness: PerGrade;
  readonly satisfaction: PerGrade;
  readonly persistence: number;
  readonly cart: PerGrade;
  readonly purchase: PerGrade;
  /** P(open the next page | examined the whole page unsatisfied). */
  readonly nextPage: number;
}

export const defaultClickModel: ClickModelParams = {
  // Graded click and stop probabilities in the range of the "navigational" instantiation used in
  // online learning-to-rank simulations (Hofmann, Whiteson & de Rijke, "A probabilistic method for
  // inferring preferences from clicks", CIKM 2011), on our 4-level scale: irrelevant results are
  // rarely clicked, exact ones usually, and a click on an exact one often ends the search.
  attractiveness: [0.02, 0.06, 0.2, 0.45],
  satisfaction: [0, 0.1, 0.3, 0.5],
  // Chapelle & Zhang fit γ near 0.9 on web logs; result grids of 12–24 products are scanned at least as far.
  persistence: 0.9,
  // Add-to-cart per product-page view is about 10% across e-commerce benchmarks; it rises with relevance.
  cart: [0.01, 0.03, 0.08, 0.18],
  // About 70% of carts are abandoned (Baymard Institute's average of published studies), so ~0.3 on average.
  purchase: [0.1, 0.2, 0.3, 0.4],
  nextPage: 0.25,
};

export interface Interaction {
  /** 0-based index in the shown list. */
  readonly index: number;
  readonly carted: boolean;
  readonly satisfied: boolean;
}

export interface BrowseOutcome {
  /** Clicks in the order they happened (top-down). */
  readonly interactions: readonly Interaction[];
  /** How many results were examined. */
  readonly examined: number;
  readonly satisfied: boolean;
  /** Examined every result without being satisfied: the moment to open the next page. */
  readonly reachedEnd: boolean;
}

/** One pass over a shown list whose true grades are `grades`, in display order. */
export function browse(grades: readonly Grade[], params: ClickModelParams, rng: Rng): BrowseOutcome {
  const interactions: Interaction[] = [];
  for (let i = 0; i < grades.length; i++) {
    const grade = grades[i]!;
    if (rng.chance(params.attractiveness[grade])) {
      const carted = rng.chance(params.cart[grade]);
      const satisfied = rng.chance(params.satisfaction[grade]);
      interactions.push({ index: i, carted, satisfied });
      if (satisfied) return { interactions, examined: i + 1, satisfied: true, reachedEnd: false };
    }
    if (i < grades.length - 1 && !rng.chance(params.persistence))
      return { interactions, examined: i + 1, satisfied: false, reachedEnd: false };
  }
  return { interactions, examined: grades.length, satisfied: false, reachedEnd: true };
}
