import type { Rng } from './rng.ts';

/**
 * Zipf weights 1/k^s for ranks k = 1..n. Query frequencies in web and e-commerce search logs follow
 * a Zipf-like law with an exponent near 1 (Xie & O'Hallaron, "Locality in search engine queries and
 * its implications for caching", INFOCOM 2002; Baeza-Yates et al., SIGIR 2007), hence the default.
 */
export function zipfWeights(n: number, exponent = 1): number[] {
  return Array.from({ length: n }, (_, i) => 1 / (i + 1) ** exponent);
}

/** Draws an index with probability proportional to its weight: one binary search over the running sums. */
export class WeightedSampler {
  readonly #cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError('no weights to sample from');
    this.#cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} is not a finite non-negative number`);
      sum += w;
      this.#cumulative[i] = sum;
    });
    if (sum <= 0) throw new RangeError('weights sum to zero');
  }

  get size(): number {
    return this.#cumulative.length;
  }

  sample(rng: Rng): number {
    const cumulative = this.#cumulative;
    const target = rng.float() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
