import { normalizeQuery } from '../normalize-query.ts';

/** Terms of a query or a title: the normalised text split on spaces (the same normaliser everywhere). */
export function terms(text: string): string[] {
  return termsOfNormalized(normalizeQuery(text));
}

/** terms() of a text already normalised (normalizeQuery is idempotent), without normalising it again. */
export function termsOfNormalized(normalized: string): string[] {
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
  const lengthNorm = k1 * (1 - b + (b * titleTerms.length) / Math.max(stats.averageLength, 1));
  let score = 0;
  // Titles and queries are a few terms: linear scans, no per-candidate Map or Set.
  for (let i = 0; i < queryTerms.length; i++) {
    const term = queryTerms[i]!;
    if (firstIndex(queryTerms, term) !== i) continue;
    const f = occurrences(titleTerms, term);
    if (f === 0) continue;
    const df = stats.documentFrequency(term);
    const idf = Math.log(1 + (stats.documents - df + 0.5) / (df + 0.5));
    score += (idf * f * (k1 + 1)) / (f + lengthNorm);
  }
  return score;
}

/** Share of distinct query terms present in the title, 0 to 1. */
export function termCoverage(queryTerms: readonly string[], titleTerms: readonly string[]): number {
  let distinct = 0;
  let present = 0;
  for (let i = 0; i < queryTerms.length; i++) {
    const term = queryTerms[i]!;
    if (firstIndex(queryTerms, term) !== i) continue;
    distinct++;
    if (firstIndex(titleTerms, term) >= 0) present++;
  }
  return distinct === 0 ? 0 : present / distinct;
}

function firstIndex(list: readonly string[], term: string): number {
  for (let i = 0; i < list.length; i++) if (list[i] === term) return i;
  return -1;
}

function occurrences(list: readonly string[], term: string): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) if (list[i] === term) n++;
  return n;
}
