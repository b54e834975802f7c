import { FEATURE_COUNT, FEATURE_INDEX } from '@searchop/schemas';
import { TrainerError, TrainerErrorCode } from '../errors.ts';
import type { GateMetrics } from '../gates.ts';
import { evaluateRanking, type RankingMetrics } from './metrics.ts';
import type { Truth } from './truth.ts';
import { truthGrades, type ValidationSet } from './validation-set.ts';

export interface Scorer {
  score(features: Float64Array, rows: number): Promise<Float64Array>;
}

/**
 * The rankings compared on the validation period:
 *  - new: the model just trained, scored by onnxruntime on the exported ONNX graph;
 *  - current: the production model (if any, and built for the same feature spec), the same way;
 *  - logged: the order the shoppers saw (what the ranker or the storefront served);
 *  - popularity: the product's clicks in the last 7 days as of the impression (feature product_clicks_7d);
 *  - text: BM25 of the query against the title (feature text_bm25).
 * Baseline ties keep the logged order (see metrics.ts).
 */
export type RankerName = 'new' | 'current' | 'logged' | 'popularity' | 'text';

export interface RankerResult {
  readonly name: RankerName;
  readonly description: string;
  readonly metrics: RankingMetrics;
}

export interface Evaluation {
  readonly cutoffMs: number;
  readonly groups: number;
  readonly rows: number;
  readonly listsWithoutClicks: number;
  readonly results: readonly RankerResult[];
}

export async function evaluateRankers(
  set: ValidationSet,
  cutoffMs: number,
  models: { readonly candidate: Scorer; readonly current?: { readonly version: number; readonly scorer: Scorer } },
  truth?: Truth,
): Promise<Evaluation> {
  const options = {
    listsWithoutClicks: set.listsWithoutClicks,
    ...(truth ? { truth: truthGrades(set, truth) } : {}),
  };
  const results: RankerResult[] = [];
  const add = (name: RankerName, description: string, scores: ArrayLike<number>) =>
    results.push({ name, description, metrics: evaluateRanking(set, scores, options) });
  add('new', 'model just trained (ONNX)', await models.candidate.score(set.features, set.rows));
  if (models.current) {
    add(
      'current',
      `production model v${models.current.version} (ONNX)`,
      await models.current.scorer.score(set.features, set.rows),
    );
  }
  add(
    'logged',
    'order shown to shoppers',
    Float64Array.from(set.positions, (p) => -p),
  );
  add('popularity', 'product clicks in the last 7 days', column(set, 'product_clicks_7d'));
  add('text', 'BM25 of query vs title', column(set, 'text_bm25'));
  return {
    cutoffMs,
    groups: set.starts.length - 1,
    rows: set.rows,
    listsWithoutClicks: set.listsWithoutClicks,
    results,
  };
}

function column(set: ValidationSet, name: string): Float64Array {
  const index = FEATURE_INDEX.get(name);
  if (index === undefined) throw new TrainerError(TrainerErrorCode.FEATURES_MISMATCH, `feature spec has no ${name}`);
  const out = new Float64Array(set.rows);
  for (let r = 0; r < set.rows; r++) out[r] = set.features[r * FEATURE_COUNT + index]!;
  return out;
}

export function gateMetricsOf(metrics: RankingMetrics): GateMetrics {
  return { ndcg_at_10: metrics.ndcgAt10, mrr: metrics.mrr, ctr_at_10: metrics.ctrAt10 };
}

export function resultOf(evaluation: Evaluation, name: RankerName): RankerResult | undefined {
  return evaluation.results.find((r) => r.name === name);
}
