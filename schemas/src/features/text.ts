import { normalizeQuery } from '../normalize-query.ts';

/** Terms of a query or a title: the normalised text split on spaces (the same normaliser everywhere). */
export function terms(text: string): string[] {
  const normalized = normalizeQuery(text);
  return normalized === '' ? [] : normalized.split(' ');
}

/** Corpus statistics BM25 needs: document count, mean title length, document frequency per term. */
export interface TextStats {
  readonly documents: number;
  readonly averageLength: number;
  readonly documentFrequency: (term: string) => number;
}

/**
 * Okapi BM25 of a title for a query (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
 * BM25 and Beyond", 2009), with the Lucene idf ln(1 + (N − df + 0.5)/(df + 0.5)), which stays positive.
 */
export function bm25(
  queryTerms: readonly string[],
  titleTerms: readonly string[],
  stats: TextStats,
  k1 = 1.2,
  b = 0.75,
): number {
  if (queryTerms.length === 0 || titleTerms.length === 0 || stats.documents === 0) return 0;
  const tf = new Map<string, number>();
  for (const t of titleTerms) tf.set(t, (tf.get(t) ?? 0) + 1);
  const lengthNorm = k1 * (1 - b + (b * titleTerms.length) / Math.max(stats.averageLength, 1));
  let score = 0;
  for (const term of new Set(queryTerms)) {
    const f = tf.get(term);
    if (!f) continue;
    const df = stats.documentFrequency(term);
    const idf = Math.log(1 + (stats.documents - df + 0.5) / (df + 0.5));
    score += (idf * f * (k1 + 1)) / (f + lengthNorm);
  }
  return score;
}

/** Share of distinct query terms present in the title, 0 to 1. */
export function termCoverage(queryTerms: readonly string[], titleTerms: readonly string[]): number {
  const distinct = new Set(queryTerms);
  if (distinct.size === 0) return 0;
  const title = new Set(titleTerms);
  let present = 0;
  for (const t of distinct) if (title.has(t)) present++;
  return present / distinct.size;
}
