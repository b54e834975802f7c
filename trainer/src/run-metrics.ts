import { Gauge, Pushgateway, Registry } from 'prom-client';
import type { RunResult } from './run.ts';

/**
 * The trainer's run as Prometheus metrics. The trainer is a batch job (a weekly CronJob): nothing is
 * left running to scrape, so at the end of each run it pushes its gauges to a Prometheus Pushgateway
 * (the pattern Prometheus recommends for service-level batch jobs), which Prometheus scrapes with
 * `honor_labels: true`. One group, `job="searchop-trainer"`, no instance label: whichever pod ran
 * the job, the last run replaces the previous one.
 *
 * Pushes use POST, which replaces only the metric families pushed: a failed run pushes the
 * `last_run_*` gauges alone, so the last success, the gate outcome and the model's metrics of the
 * last run that completed stay in the group. That is what lets the alerts tell "the last run failed"
 * from "no successful run for 8 days" (observability/prometheus/rules/searchop-alerts.yml).
 */

/** How a run ended: a model registered and promoted, registered but refused by a gate, or no model at all. */
export type RunOutcome = { readonly kind: 'completed'; readonly result: CompletedRun } | { readonly kind: 'failed' };

/** What the gauges read of a run's result. */
export type CompletedRun = Pick<
  RunResult,
  'version' | 'promoted' | 'decision' | 'evaluation' | 'currentBefore' | 'timings'
>;

export interface RunReport {
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly outcome: RunOutcome;
}

export const TRAINER_PUSH_JOB = 'searchop-trainer';

/** The gauges of one run in a registry of their own (no process metrics: the process is about to exit). */
export function runMetricsRegistry(report: RunReport): Registry {
  const registry = new Registry();
  const registers = [registry];
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });

  const finished = report.finishedAtMs / 1000;
  gauge('searchop_trainer_last_run_timestamp_seconds', 'When the last trainer run ended, whatever its outcome.').set(
    finished,
  );
  gauge('searchop_trainer_last_run_duration_seconds', 'Wall time of the last trainer run.').set(
    (report.finishedAtMs - report.startedAtMs) / 1000,
  );
  gauge(
    'searchop_trainer_last_run_success',
    '1 when the last run registered a model (promoted or not), 0 when it failed before that.',
  ).set(report.outcome.kind === 'completed' ? 1 : 0);
  // The run's error code is in its log; the gauges say only that it failed.
  if (report.outcome.kind === 'failed') return registry;

  const { result } = report.outcome;
  gauge(
    'searchop_trainer_last_success_timestamp_seconds',
    'When the last run that registered a model ended (the gates may still have refused it).',
  ).set(finished);
  gauge(
    'searchop_trainer_gate_passed',
    '1 when every gate passed and the model was promoted, 0 when a gate refused it.',
  ).set(result.promoted ? 1 : 0);
  gauge('searchop_trainer_gate_checks_failed', 'Gate checks the last registered model failed (0 when promoted).').set(
    result.decision.checks.filter((c) => !c.passed).length,
  );
  gauge('searchop_trainer_model_version', 'The version the last completed run registered.').set(result.version);
  gauge(
    'searchop_trainer_production_model_version',
    'The production model version after the last completed run (the new one when promoted).',
  ).set(result.promoted ? result.version : (result.currentBefore ?? 0));
  if (result.promoted) {
    gauge('searchop_trainer_last_promotion_timestamp_seconds', 'When the trainer last promoted a model.').set(finished);
  }

  const ranker = ['ranker'] as const;
  const ndcg = gauge('searchop_trainer_ndcg_at_10', 'NDCG@10 on the validation period, by ranking evaluated.', ranker);
  const mrr = gauge('searchop_trainer_mrr', 'MRR on the validation period, by ranking evaluated.', ranker);
  const ctr = gauge('searchop_trainer_ctr_at_10', 'CTR@10 on the validation period, by ranking evaluated.', ranker);
  const truth = gauge(
    'searchop_trainer_truth_ndcg_at_10',
    'NDCG@10 against true relevance (when a truth file was given), by ranking evaluated.',
    ranker,
  );
  for (const { name, metrics } of result.evaluation.results) {
    ndcg.set({ ranker: name }, metrics.ndcgAt10);
    mrr.set({ ranker: name }, metrics.mrr);
    ctr.set({ ranker: name }, metrics.ctrAt10);
    if (metrics.truthNdcgAt10 !== undefined) truth.set({ ranker: name }, metrics.truthNdcgAt10);
  }
  gauge('searchop_trainer_validation_lists', 'Served lists with a click in the validation period.').set(
    result.evaluation.groups,
  );
  const steps = gauge('searchop_trainer_step_duration_seconds', 'Wall time of each step of the last completed run.', [
    'step',
  ]);
  for (const [step, seconds] of Object.entries(result.timings)) steps.set({ step }, seconds);
  return registry;
}

/**
 * Pushes a run's gauges when a Pushgateway URL is configured. Never throws: the model is already
 * registered (or the run already failed), and a missing push shows up as the "no successful run"
 * alert rather than as a second failure.
 */
export async function pushRunMetrics(
  pushgatewayUrl: string | undefined,
  report: RunReport,
  say: (line: string) => void,
  timeoutMs = 10_000,
): Promise<void> {
  if (pushgatewayUrl === undefined) return;
  const gateway = new Pushgateway(pushgatewayUrl, { timeout: timeoutMs }, runMetricsRegistry(report));
  try {
    await gateway.pushAdd({ jobName: TRAINER_PUSH_JOB });
    say(`run metrics pushed to ${pushgatewayUrl} (job ${TRAINER_PUSH_JOB})`);
  } catch (error) {
    say(`warning: could not push run metrics to ${pushgatewayUrl}: ${(error as Error).message}`);
  }
}
