/**
 * Offline ranking metrics over served lists ("groups"). Pure: arrays in, numbers out.
 *
 * Every metric re-orders the items of a group that were actually shown (a re-ranker can only permute
 * what retrieval gave it) by the scores under evaluation, highest first; ties keep the logged order
 * (lower shown position first), so a constant score reproduces the logged ranking exactly.
 *
 * Definitions (copied into the README):
 *
 * - **NDCG@10** (graded; Järvelin & Kekäläinen, TOIS 2002, with the exponential gain of Burges et al.,
 *   ICML 2005, which LambdaMART optimises): DCG@10 = Σ_{i=1..min(10,n)} (2^{rel_i} − 1) / log2(i + 1) over
 *   the group's items in ranked order, divided by the DCG@10 of the same items sorted by rel. `rel` is the
 *   item's label (0 shown, 1 clicked, 2 added to cart, 3 purchased, by default) — or, for "NDCG@10 vs
 *   truth", the true grade of (query, product) from a truth file (0 when the file does not grade the pair).
 *   A group whose ideal DCG is 0 (no positive rel) has no defined NDCG and is **excluded** from the mean.
 *
 * - **MRR**: the mean over groups with at least one item labelled ≥ 1 of 1 / rank of the first item
 *   labelled ≥ 1 (no cut-off). Groups with no such item are excluded, as for NDCG.
 *
 * - **CTR@10**: the share of **all** evaluated served lists — including those in which the shopper
 *   clicked nothing — whose top 10, in the order under evaluation, contains at least one item the
 *   shopper clicked (label ≥ 1; carts and purchases imply a click). For the logged order this is the
 *   observed click-through rate of the first ten results (searches with a click in the top 10 over
 *   searches); for another order it is the counterfactual share of searches that would have had their
 *   clicked product within the first ten results. Lists without any click count in the denominator and
 *   never in the numerator, so the number stays comparable with the live search CTR (a per-item rate
 *   would depend on page size, and one counted over clicked lists only would hide how many searches fail).
 */

/** The rows of served lists, grouped: group g is rows [starts[g], starts[g + 1]). */
export interface Groups {
  /** Length groups + 1, ascending, starts[0] = 0, last = number of rows. */
  readonly starts: Int32Array;
  /** Label (graded engagement) of each row. */
  readonly labels: ArrayLike<number>;
  /** Position the row's item was shown at (1-based; lower is higher on the page). */
  readonly positions: ArrayLike<number>;
}

export const CUTOFF = 10;

/** Row indices of group g ordered by score (highest first), ties by shown position. */
export function rankGroup(groups: Groups, g: number, scores: ArrayLike<number>): number[] {
  const from = groups.starts[g]!;
  const to = groups.starts[g + 1]!;
  const rows: number[] = [];
  for (let r = from; r < to; r++) rows.push(r);
  const { positions } = groups;
  rows.sort((a, b) => scoreOrder(scores[a]!, scores[b]!) || positions[a]! - positions[b]!);
  return rows;
}

/** Descending by score; NaN scores (a model that gives none) sort last. */
function scoreOrder(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}

/** DCG at k of relevance values in ranked order. */
export function dcgAt(k: number, relevance: readonly number[]): number {
  let sum = 0;
  const n = Math.min(k, relevance.length);
  for (let i = 0; i < n; i++) sum += (2 ** relevance[i]! - 1) / Math.log2(i + 2);
  return sum;
}

/** NDCG at k of relevance values in ranked order; undefined when no value is positive (ideal DCG 0). */
export function ndcgAt(k: number, relevance: readonly number[]): number | undefined {
  const ideal = dcgAt(
    k,
    [...relevance].sort((a, b) => b - a),
  );
  return ideal > 0 ? dcgAt(k, relevance) / ideal : undefined;
}

/** 1 / rank of the first value ≥ 1; undefined when there is none. */
export function reciprocalRank(labels: readonly number[]): number | undefined {
  const i = labels.findIndex((l) => l >= 1);
  return i < 0 ? undefined : 1 / (i + 1);
}

/** Whether a value ≥ 1 is among the first k. */
export function hitAt(k: number, labels: readonly number[]): boolean {
  const n = Math.min(k, labels.length);
  for (let i = 0; i < n; i++) if (labels[i]! >= 1) return true;
  return false;
}

export interface RankingMetrics {
  readonly ndcgAt10: number;
  readonly mrr: number;
  readonly ctrAt10: number;
  /** NDCG@10 against true relevance, when grades were given. */
  readonly truthNdcgAt10?: number;
  /** Groups with at least one positive label: the NDCG and MRR denominators. */
  readonly groupsWithClicks: number;
  /** All evaluated lists, including those without a click: the CTR@10 denominator. */
  readonly lists: number;
  /** Groups with at least one positive true grade: the truth NDCG denominator. */
  readonly groupsWithTruth?: number;
}

export interface EvaluateOptions {
  /**
   * Served lists in the evaluation period that are not in `groups` because nobody clicked anything
   * in them (they carry no ranking signal and are not materialised): they count in CTR@10's
   * denominator only.
   */
  readonly listsWithoutClicks?: number;
  /** True grade of each row, for NDCG@10 vs truth. */
  readonly truth?: ArrayLike<number>;
}

/** NDCG@10, MRR, CTR@10 (and NDCG@10 vs truth) of the ranking given by `scores`. */
export function evaluateRanking(
  groups: Groups,
  scores: ArrayLike<number>,
  options: EvaluateOptions = {},
): RankingMetrics {
  const count = groups.starts.length - 1;
  let ndcgSum = 0;
  let rrSum = 0;
  let withClicks = 0;
  let hits = 0;
  let truthSum = 0;
  let withTruth = 0;
  for (let g = 0; g < count; g++) {
    const order = rankGroup(groups, g, scores);
    const labels = order.map((r) => groups.labels[r]!);
    const ndcg = ndcgAt(CUTOFF, labels);
    if (ndcg !== undefined) {
      withClicks++;
      ndcgSum += ndcg;
      rrSum += reciprocalRank(labels) ?? 0;
    }
    if (hitAt(CUTOFF, labels)) hits++;
    if (options.truth) {
      const truth = options.truth;
      const truthNdcg = ndcgAt(
        CUTOFF,
        order.map((r) => truth[r]!),
      );
      if (truthNdcg !== undefined) {
        withTruth++;
        truthSum += truthNdcg;
      }
    }
  }
  const lists = count + (options.listsWithoutClicks ?? 0);
  const metrics: RankingMetrics = {
    ndcgAt10: withClicks > 0 ? ndcgSum / withClicks : 0,
    mrr: withClicks > 0 ? rrSum / withClicks : 0,
    ctrAt10: lists > 0 ? hits / lists : 0,
    groupsWithClicks: withClicks,
    lists,
  };
  return options.truth
    ? { ...metrics, truthNdcgAt10: withTruth > 0 ? truthSum / withTruth : 0, groupsWithTruth: withTruth }
    : metrics;
}
