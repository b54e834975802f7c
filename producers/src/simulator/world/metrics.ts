import type { Grade } from './types.ts';

/**
 * Normalised discounted cumulative gain at k with exponential gain 2^grade − 1 and log2(rank + 1)
 * discount (Järvelin & Kekäläinen, TOIS 2002; the gain form of Burges et al., ICML 2005, which
 * LambdaMART optimises). The ideal ordering is over every graded candidate of the query, so a ranking
 * that leaves relevant products out is penalised. 0 when the query has no relevant candidate.
 */
export function ndcgAt(k: number, ranking: readonly string[], grades: ReadonlyMap<string, Grade>): number {
  const ideal = dcg([...grades.values()].sort((a, b) => b - a).slice(0, k));
  if (ideal === 0) return 0;
  return dcg(ranking.slice(0, k).map((id) => grades.get(id) ?? 0)) / ideal;
}

function dcg(grades: readonly number[]): number {
  return grades.reduce((sum, grade, i) => sum + (2 ** grade - 1) / Math.log2(i + 2), 0);
}
