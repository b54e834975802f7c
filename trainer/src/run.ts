import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_NAMES, FEATURE_SPEC_VERSION } from '@searchop/schemas';
import type { TrainerConfigFiles } from './config.ts';
import { buildData, type BuiltData } from './data/build-data.ts';
import { iso } from './data/period.ts';
import { openOfflineStore, openWorkDb, type DuckDbSettings } from './data/store.ts';
import { TrainerError } from './errors.ts';
import { evaluateRankers, gateMetricsOf, resultOf, type Evaluation } from './evaluate/evaluate.ts';
import type { RankingMetrics } from './evaluate/metrics.ts';
import { OnnxScorer } from './evaluate/onnx-scorer.ts';
import { readTruth } from './evaluate/truth.ts';
import { loadValidationSet } from './evaluate/validation-set.ts';
import { decide, type CurrentModel, type GateDecision } from './gates.ts';
import { ensurePythonEnv, runPythonModule } from './python.ts';
import type { ModelRegistry } from './registry/registry.ts';

/**
 * `trainer run`: build-data → fit → export → evaluate → gate → register (→ promote). Every trained
 * model that exported is registered as a new version with its metrics and the gate decision; the
 * production pointer moves only when every gate passed, so a failed gate leaves production untouched
 * and the decision says why.
 */
export interface RunOptions {
  readonly storeRoot: string;
  readonly registry: ModelRegistry;
  readonly config: TrainerConfigFiles;
  /** Scratch space: DuckDB spill files, the training file, the LightGBM model, the exported ONNX. */
  readonly workDir: string;
  readonly duckdb: Omit<DuckDbSettings, 'tempDirectory'>;
  /** Worker threads of the backfill (each replays the events for its share of the products); default 1. */
  readonly backfillWorkers?: number;
  readonly truthPath?: string;
  readonly since?: number;
  readonly until?: number;
  readonly venvDir?: string;
  /** Recorded with the model: the commit the trainer ran from. */
  readonly codeVersion: Readonly<Record<string, unknown>>;
  readonly progress: (line: string) => void;
  readonly now?: () => Date;
}

export interface RunResult {
  readonly version: number;
  readonly promoted: boolean;
  readonly decision: GateDecision;
  readonly evaluation: Evaluation;
  readonly data: BuiltData;
  readonly currentBefore: number | undefined;
  readonly timings: Readonly<Record<string, number>>;
}

interface FitReport {
  readonly cutoff_ms: number;
  readonly best_iteration: number;
  readonly num_trees: number;
  readonly [key: string]: unknown;
}

export async function runTraining(options: RunOptions): Promise<RunResult> {
  const { progress: say, registry, config } = options;
  const now = options.now ?? (() => new Date());
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    say(`▶ ${name}`);
    const started = performance.now();
    const result = await work();
    timings[name] = Math.round(performance.now() - started) / 1000;
    say(`✔ ${name} (${timings[name].toFixed(1)} s)`);
    return result;
  };
  await mkdir(join(options.workDir, 'duckdb-spill'), { recursive: true });
  const trainingFile = join(options.workDir, 'training.parquet');
  const fitDir = join(options.workDir, 'fit');
  const onnxPath = join(options.workDir, 'model.onnx');

  const duckdb = { ...options.duckdb, tempDirectory: join(options.workDir, 'duckdb-spill') };

  // Started now, checked once the data is built: the first run creates the virtualenv.
  const python = ensurePythonEnv({ ...(options.venvDir ? { venvDir: options.venvDir } : {}), onLine: say });
  python.catch(() => undefined);
  // The store's DuckDB is closed before the fit, so its memory is not held while LightGBM trains.
  const data = await step('build-data', async () => {
    const store = await openOfflineStore(options.storeRoot, duckdb);
    try {
      return await buildData(store, {
        config: config.data,
        trainingFile,
        examplesFile: join(options.workDir, 'examples.parquet'),
        listsFile: join(options.workDir, 'lists.parquet'),
        scratchDir: options.workDir,
        backfillWorkers: options.backfillWorkers ?? 1,
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
        onProgress: (line) => say(`  ${line}`),
      });
    } finally {
      store.close();
    }
  });

  const db = await openWorkDb(data.files, duckdb);
  try {
    const env = await python;
    const fit = await step('fit', async () => {
      await runPythonModule(
        env,
        'searchop_trainer.fit',
        [
          '--data',
          trainingFile,
          '--config',
          config.lightgbmPath,
          '--out',
          fitDir,
          '--feature-names',
          FEATURE_NAMES.join(','),
          '--spec-version',
          FEATURE_SPEC_VERSION,
        ],
        { onStderrLine: (line) => say(`  ${line}`) },
      );
      const report = JSON.parse(await readFile(join(fitDir, 'report.json'), 'utf8')) as FitReport;
      say(`  ${report.best_iteration} trees (best iteration), validation from ${iso(report.cutoff_ms)}`);
      return report;
    });

    const exported = await step('export', async () => {
      const run = await runPythonModule(
        env,
        'searchop_trainer.export_onnx',
        [
          '--model',
          join(fitDir, 'model.txt'),
          '--out',
          onnxPath,
          '--spec-version',
          FEATURE_SPEC_VERSION,
          '--feature-names',
          FEATURE_NAMES.join(','),
        ],
        { onStderrLine: (line) => say(`  ${line}`) },
      );
      const result = run.result as { parity?: { max_abs_diff?: number; rows?: number } } | undefined;
      if (result?.parity) {
        say(`  parity with LightGBM: max |Δscore| ${result.parity.max_abs_diff} over ${result.parity.rows} rows`);
      }
      return run.result;
    });

    const currentBefore = await registry.current();
    const { evaluation, current } = await step('evaluate', async () => {
      const set = await loadValidationSet(db.connection, fit.cutoff_ms);
      say(
        `  validation: ${set.starts.length - 1} lists with clicks (${set.rows} rows), ${set.listsWithoutClicks} without`,
      );
      const truth = options.truthPath ? await readTruth(db.connection, options.truthPath) : undefined;
      const candidate = await OnnxScorer.load(onnxPath);
      const current = await currentModel(registry, currentBefore);
      try {
        const evaluation = await evaluateRankers(
          set,
          fit.cutoff_ms,
          {
            candidate,
            ...(current.scorer ? { current: { version: currentBefore!, scorer: current.scorer } } : {}),
          },
          truth,
        );
        return { evaluation, current };
      } finally {
        await candidate.release();
        await current.scorer?.release();
      }
    });

    const candidateMetrics = resultOf(evaluation, 'new')!.metrics;
    const currentMetrics = resultOf(evaluation, 'current')?.metrics;
    const comparison: CurrentModel =
      currentMetrics && currentBefore !== undefined
        ? { kind: 'comparable', version: currentBefore, metrics: gateMetricsOf(currentMetrics) }
        : { kind: 'absent', why: current.why };
    const decision = decide(config.gates, gateMetricsOf(candidateMetrics), comparison);

    const onnx = await readFile(onnxPath);
    const createdAt = now().toISOString();
    const version = await step('register', () =>
      registry.register(onnx, (v) => ({
        version: v,
        created_at: createdAt,
        promoted: decision.promote,
        decision,
        feature_spec_version: FEATURE_SPEC_VERSION,
        feature_names: FEATURE_NAMES,
        metrics: Object.fromEntries(evaluation.results.map((r) => [r.name, metricsJson(r.metrics, r.description)])),
        validation: {
          cutoff: iso(evaluation.cutoffMs),
          lists_with_clicks: evaluation.groups,
          rows: evaluation.rows,
          lists_without_clicks: evaluation.listsWithoutClicks,
          truth_file: options.truthPath ?? null,
          current_model: currentBefore ?? null,
          current_model_compared: comparison.kind === 'comparable',
          ...(comparison.kind === 'absent' ? { current_model_note: comparison.why } : {}),
        },
        data: {
          offline_store: options.storeRoot,
          window: {
            examples_from: iso(data.period.examplesFrom),
            examples_to: iso(data.period.examplesTo),
            replay_from: iso(data.period.replayFrom),
            data_end: iso(data.period.end),
          },
          counts: data.counts,
          features: config.data.features,
        },
        training: fit,
        export: exported,
        parameters: { lightgbm: config.lightgbm, data: config.data, gates: config.gates },
        code_version: options.codeVersion,
        timings_seconds: timings,
      })),
    );
    if (decision.promote) {
      await registry.setCurrent(version, `promoted by trainer run (v${currentBefore ?? 'none'} → v${version})`);
      say(`promoted v${version} to production (was ${currentBefore === undefined ? 'none' : `v${currentBefore}`})`);
    } else {
      say(
        `v${version} registered, NOT promoted; production stays at ${currentBefore === undefined ? 'none' : `v${currentBefore}`}`,
      );
    }
    return { version, promoted: decision.promote, decision, evaluation, data, currentBefore, timings };
  } finally {
    db.close();
  }
}

function metricsJson(m: RankingMetrics, description: string) {
  return {
    description,
    ndcg_at_10: m.ndcgAt10,
    mrr: m.mrr,
    ctr_at_10: m.ctrAt10,
    ...(m.truthNdcgAt10 === undefined
      ? {}
      : { truth_ndcg_at_10: m.truthNdcgAt10, groups_with_truth: m.groupsWithTruth }),
    lists_with_clicks: m.groupsWithClicks,
    lists: m.lists,
  };
}

/**
 * The production model as a scorer, when it can be compared: its metrics file must say it was built
 * for this feature spec and these features (the ranker refuses it otherwise anyway).
 */
async function currentModel(
  registry: ModelRegistry,
  version: number | undefined,
): Promise<{ scorer?: OnnxScorer; why: string }> {
  if (version === undefined) return { why: 'no production model yet' };
  const metrics = (await registry.metrics(version)) as
    { feature_spec_version?: unknown; feature_names?: unknown } | undefined;
  if (metrics?.feature_spec_version !== FEATURE_SPEC_VERSION) {
    return {
      why: `production model v${version} was built for feature spec ${JSON.stringify(metrics?.feature_spec_version ?? 'unknown')}, not ${FEATURE_SPEC_VERSION}`,
    };
  }
  if (JSON.stringify(metrics.feature_names) !== JSON.stringify(FEATURE_NAMES)) {
    return { why: `production model v${version} has other feature names than spec ${FEATURE_SPEC_VERSION}` };
  }
  try {
    return { scorer: await OnnxScorer.load(registry.paths.model(version)), why: '' };
  } catch (error) {
    if (error instanceof TrainerError)
      return { why: `production model v${version} cannot be scored: ${error.message}` };
    throw error;
  }
}
