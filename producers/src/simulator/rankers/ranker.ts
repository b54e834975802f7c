import type { SearchImpression } from '@searchop/schemas';
import type { Candidate } from '../retrieval.ts';
import type { Rng } from '../rng.ts';
import type { SimEvent } from '../sinks/sink.ts';

export interface RankRequest {
  /** As typed. */
  readonly query: string;
  readonly normalizedQuery: string;
  /** In retrieval order (best BM25 first). */
  readonly candidates: readonly Candidate[];
  readonly userId: string | null;
  readonly sessionId: string;
  readonly device: SearchImpression['device'];
  /** The session's random stream, for rankers that randomise (so runs stay reproducible). */
  readonly rng: Rng;
}

export interface Ranking {
  /** Product ids, best first. */
  readonly productIds: readonly string[];
  /** The ranking service's id of this ranking, echoed in the impression; null for in-process rankers. */
  readonly requestId: string | null;
}

/** Orders a query's candidates. A failure (a rejected promise) makes the storefront fall back to retrieval order. */
export interface Ranker {
  readonly name: string;
  rank(request: RankRequest): Promise<Ranking>;
  /** Sees every event as the simulation emits it, in order: rankers that learn from behaviour count here. */
  observe?(event: SimEvent): void;
}

/**
 * What the storefront shows: the ranker's order restricted to the candidates (unknown or repeated
 * ids dropped), then any candidate the ranker left out, in retrieval order — a re-ranker that
 * returns only its top k re-orders the head and leaves the tail as retrieved.
 */
export function displayOrder(ranked: readonly string[], candidates: readonly Candidate[]): string[] {
  const remaining = new Set(candidates.map((c) => c.productId));
  const order: string[] = [];
  for (const id of ranked) if (remaining.delete(id)) order.push(id);
  for (const c of candidates) if (remaining.has(c.productId)) order.push(c.productId);
  return order;
}
