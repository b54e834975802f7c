import { z } from 'zod';

/**
 * Promotion gates (trainer/config/gates.json), pure: the new model's validation metrics and the
 * current production model's, in; a decision with one line per check, out. A model is promoted only
 * when every check passes; otherwise production stays as it is and the failed checks say why.
 *
 *  - floors: each metric of the new model must reach its minimum (the original design: NDCG@10 ≥ 0.25,
 *    MRR ≥ 0.20, CTR@10 ≥ 0.10);
 *  - no regression: no metric may fall more than `max_regression` (relative, 10%) below the current
 *    model's on the same validation data;
 *  - improvement: the new model must beat the current one on `improvement.metric` by more than
 *    `improvement.min_relative` (5%) — retraining churn is not worth a deployment otherwise.
 * Without a comparable current model (the first run, or a production model built for another feature
 * spec, which the ranker could not serve next to the new spec anyway) only the floors apply.
 */
export const GATE_METRICS = ['ndcg_at_10', 'mrr', 'ctr_at_10'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];
export type GateMetrics = Readonly<Record<GateMetric, number>>;

const metric = z.enum(GATE_METRICS);
const fraction = z.number().min(0).max(1);

export const gatesConfigSchema = z.strictObject({
  minimum: z.strictObject({ ndcg_at_10: fraction, mrr: fraction, ctr_at_10: fraction }),
  max_regression: fraction,
  improvement: z.strictObject({ metric, min_relative: z.number().min(0) }),
});
export type GatesConfig = z.infer<typeof gatesConfigSchema>;

export interface GateCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface GateDecision {
  readonly promote: boolean;
  readonly checks: readonly GateCheck[];
  /** The details of the failed checks: why production was left as it is. */
  readonly reasons: readonly string[];
}

/** The current model's metrics, or why there is nothing to compare with. */
export type CurrentModel =
  | { readonly kind: 'comparable'; readonly version: number; readonly metrics: GateMetrics }
  | { readonly kind: 'absent'; readonly why: string };

const fmt = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function decide(config: GatesConfig, candidate: GateMetrics, current: CurrentModel): GateDecision {
  const checks: GateCheck[] = [];
  for (const name of GATE_METRICS) {
    const floor = config.minimum[name];
    const value = candidate[name];
    checks.push({
      name: `${name} >= ${floor}`,
      passed: value >= floor,
      detail: `${name} ${fmt(value)} ${value >= floor ? '>=' : '<'} minimum ${floor}`,
    });
  }
  if (current.kind === 'absent') {
    checks.push({ name: 'compare with current', passed: true, detail: `no comparison: ${current.why}` });
  } else {
    for (const name of GATE_METRICS) {
      const reference = current.metrics[name];
      const bound = reference * (1 - config.max_regression);
      const value = candidate[name];
      checks.push({
        name: `${name} within ${pct(config.max_regression)} of v${current.version}`,
        passed: value >= bound,
        detail:
          value >= bound
            ? `${name} ${fmt(value)} is not more than ${pct(config.max_regression)} below v${current.version}'s ${fmt(reference)}`
            : `${name} ${fmt(value)} is ${pct(1 - value / reference)} below v${current.version}'s ${fmt(reference)} (more than ${pct(config.max_regression)})`,
      });
    }
    const { metric: name, min_relative } = config.improvement;
    const reference = current.metrics[name];
    const value = candidate[name];
    const passed = value > reference * (1 + min_relative);
    const gain = reference > 0 ? value / reference - 1 : Number.POSITIVE_INFINITY;
    checks.push({
      name: `${name} > ${pct(min_relative)} above v${current.version}`,
      passed,
      detail: `${name} ${fmt(value)} vs v${current.version}'s ${fmt(reference)}: ${gain >= 0 ? '+' : ''}${pct(gain)} (${passed ? 'more' : 'not more'} than +${pct(min_relative)} needed)`,
    });
  }
  const reasons = checks.filter((c) => !c.passed).map((c) => c.detail);
  return { promote: reasons.length === 0, checks, reasons };
}
