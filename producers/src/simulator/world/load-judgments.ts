import { normalizeQuery } from '@searchop/schemas';
import { ProducerError, ProducerErrorCode } from '../../errors.ts';
import { Rng } from '../rng.ts';
import { zipfWeights } from '../sampling.ts';
import { makeWorld, type Grade, type Product, type Query, type World } from './types.ts';

/** One judged (query, product) pair, as in the Home Depot relevance data. */
export interface JudgmentRow {
  readonly query: string;
  readonly productId: string;
  readonly productTitle: string;
  /** Mean of the raters' 1 (irrelevant) – 3 (exact) judgments. */
  readonly relevance: number;
}

export interface JudgmentWorldOptions {
  /** Seeds the popularity order of the queries and the synthetic prices. */
  readonly seed: number;
  readonly zipfExponent?: number;
  readonly currency?: string;
}

/**
 * Grade of a mean rating on the 1–3 scale: floor(2·(r − 1)), at most 3. With three raters this is a
 * majority reading: 1 and 1.33 (at most one rater saw any relevance) → 0; 1.5–1.75 → 1; 2–2.33 (most
 * said "partly") → 2; 2.5 and above (most said "exact") → 3.
 */
export function gradeOfMeanRating(relevance: number): Grade {
  return Math.min(3, Math.max(0, Math.floor(2 * (relevance - 1) + 1e-9))) as Grade;
}

/**
 * A world from human relevance judgments: products from the judged titles, each query's candidates are
 * its judged products, grades from the raters' means. The data has no query frequencies, so popularity
 * is a Zipf law over a seeded order of the queries; it has no prices, so each product gets a seeded
 * log-normal price (median 40 units). Queries that normalise to the same text are merged (a pair judged
 * twice gets the mean of its ratings); queries that normalise to nothing are dropped.
 */
export function worldFromJudgments(rows: Iterable<JudgmentRow>, options: JudgmentWorldOptions): World {
  const titles = new Map<string, string>();
  const byQuery = new Map<string, { text: string; ratings: Map<string, number[]> }>();
  for (const row of rows) {
    if (!(row.relevance >= 1 && row.relevance <= 3))
      throw new ProducerError(
        ProducerErrorCode.INPUT_INVALID,
        `relevance ${row.relevance} of (${JSON.stringify(row.query)}, ${row.productId}) is not on the 1–3 scale`,
      );
    if (!titles.has(row.productId)) titles.set(row.productId, decodeEntities(row.productTitle).trim());
    const normalized = normalizeQuery(row.query);
    if (normalized === '') continue;
    let entry = byQuery.get(normalized);
    if (!entry) byQuery.set(normalized, (entry = { text: row.query.trim(), ratings: new Map() }));
    const ratings = entry.ratings.get(row.productId);
    if (ratings) ratings.push(row.relevance);
    else entry.ratings.set(row.productId, [row.relevance]);
  }

  const products: Product[] = [...titles].map(([id, title]) => ({
    id,
    title,
    brand: null,
    categoryPath: [],
    priceMinor: syntheticPrice(options.seed, id),
    rating: null,
    reviewCount: 0,
    attributes: {},
  }));

  const order = Rng.seeded(options.seed, 'judgments:popularity').shuffle([...byQuery.keys()].sort());
  const weights = zipfWeights(order.length, options.zipfExponent ?? 1);
  const queries: Query[] = order.map((normalized, rank) => {
    const { text, ratings } = byQuery.get(normalized)!;
    const grades = new Map<string, Grade>();
    for (const [id, values] of ratings)
      grades.set(id, gradeOfMeanRating(values.reduce((a, b) => a + b, 0) / values.length));
    return { text, normalized, weight: weights[rank]!, candidates: [...ratings.keys()], grades };
  });
  return makeWorld('judgments', options.currency ?? 'USD', products, queries);
}

function syntheticPrice(seed: number, productId: string): number {
  const units = Rng.seeded(seed, `price:${productId}`).logNormal(40, 1);
  return Math.max(99, Math.round(Math.min(5_000, units)) * 100 - 1);
}

const entities: Readonly<Record<string, string>> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: ' ' };

/** The data's titles carry HTML entities (&amp;, &#39;, &quot;). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return entities[name.toLowerCase()] ?? whole;
  });
}
