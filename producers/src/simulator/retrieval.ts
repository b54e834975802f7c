import { normalizeQuery } from '@searchop/schemas';
import type { Product, Query, World } from './world/types.ts';

/** A product as first-stage retrieval hands it to a ranker. */
export interface Candidate {
  readonly productId: string;
  /** BM25 score of the title for the query; 0 when no query word is in the title. */
  readonly retrievalScore: number;
}

/** BM25+ parameters (Lv & Zhai, "Lower-bounding term frequency normalization", CIKM 2011). */
export const bm25 = { k1: 1.2, b: 0.7, delta: 0.5 } as const;

interface Document {
  readonly termFrequency: ReadonlyMap<string, number>;
  /** Distinct terms: the length measure MiniSearch uses. */
  readonly length: number;
}

/**
 * The simulated storefront's search engine: BM25 over product titles with corpus statistics, scored
 * exactly as MiniSearch scores a one-field index (BM25+ with k1 = 1.2, b = 0.7, δ = 0.5, document
 * length in distinct terms, the sum over query words times the number of distinct query words matched,
 * like Lucene's classic coordination factor; a unit test holds the two equal). MiniSearch itself
 * scores every document that shares a query word, which on 41,000 Home Depot titles costs milliseconds
 * per query for words like "in"; the storefront only needs its candidates' scores. Text is tokenised by
 * the project's one query normaliser, so "7-1/4 in." and "3.5mm" stay whole words on both sides.
 * retrieve() returns a query's candidates by score, ties in the world's candidate order; cached per query.
 */
export class Retrieval {
  readonly #documents = new Map<string, Document>();
  readonly #documentFrequency = new Map<string, number>();
  readonly #averageLength: number;
  readonly #cache = new Map<string, readonly Candidate[]>();
  readonly #scores = new WeakMap<readonly Candidate[], ReadonlyMap<string, number>>();

  constructor(products: readonly Product[]) {
    let totalLength = 0;
    for (const product of products) {
      const termFrequency = new Map<string, number>();
      for (const token of searchTokens(product.title)) termFrequency.set(token, (termFrequency.get(token) ?? 0) + 1);
      for (const term of termFrequency.keys())
        this.#documentFrequency.set(term, (this.#documentFrequency.get(term) ?? 0) + 1);
      this.#documents.set(product.id, { termFrequency, length: termFrequency.size });
      totalLength += termFrequency.size;
    }
    this.#averageLength = products.length === 0 ? 0 : totalLength / products.length;
  }

  static forWorld(world: World): Retrieval {
    return new Retrieval(world.products);
  }

  /** BM25 scores of `candidates` for `text`; candidates sharing no word with it are absent. */
  score(text: string, candidates: readonly string[]): Map<string, number> {
    const queryTerms = searchTokens(text);
    const total = this.#documents.size;
    const idf = queryTerms.map((term) => {
      const n = this.#documentFrequency.get(term) ?? 0;
      return Math.log(1 + (total - n + 0.5) / (n + 0.5));
    });
    const scores = new Map<string, number>();
    for (const id of candidates) {
      const document = this.#documents.get(id);
      if (!document) continue;
      const norm = bm25.k1 * (1 - bm25.b + (bm25.b * document.length) / this.#averageLength);
      let sum = 0;
      const matched = new Set<string>();
      queryTerms.forEach((term, i) => {
        const tf = document.termFrequency.get(term);
        if (tf === undefined) return;
        sum += idf[i]! * (bm25.delta + (tf * (bm25.k1 + 1)) / (tf + norm));
        matched.add(term);
      });
      if (matched.size > 0) scores.set(id, sum * matched.size);
    }
    return scores;
  }

  retrieve(query: Query): readonly Candidate[] {
    let result = this.#cache.get(query.normalized);
    if (!result) {
      const scores = this.score(query.text, query.candidates);
      result = query.candidates
        .map((productId, i) => ({ productId, retrievalScore: scores.get(productId) ?? 0, i }))
        .sort((a, b) => b.retrievalScore - a.retrievalScore || a.i - b.i)
        .map(({ productId, retrievalScore }) => ({ productId, retrievalScore }));
      this.#cache.set(query.normalized, result);
    }
    return result;
  }

  /** Retrieval score by product id of the candidates retrieve() returned. */
  scoresOf(candidates: readonly Candidate[]): ReadonlyMap<string, number> {
    let scores = this.#scores.get(candidates);
    if (!scores) {
      scores = new Map(candidates.map((c) => [c.productId, c.retrievalScore]));
      this.#scores.set(candidates, scores);
    }
    return scores;
  }
}

/** The tokeniser of both sides: the query normaliser's output split on spaces. */
export function searchTokens(text: string): string[] {
  const normalized = normalizeQuery(text);
  return normalized === '' ? [] : normalized.split(' ');
}
