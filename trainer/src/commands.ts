import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { loadConfig } from '@searchop/runtime';
import { DEFAULT_CONFIG_DIR, loadConfigFiles, trainerEnvSchema } from './config.ts';
import { TrainerError, TrainerErrorCode } from './errors.ts';
import { ModelRegistry } from './registry/registry.ts';
import { runTraining } from './run.ts';
import { pushRunMetrics, type RunOutcome } from './run-metrics.ts';
import { decisionText, metricsTable, table } from './summary.ts';

/**
 * The trainer's commands (cli.ts is the entry point that hands them argv and the environment).
 *
 *   trainer run      [--offline-store DIR] [--registry DIR] [--truth FILE] [--config DIR]
 *                    [--since ISO] [--until ISO] [--work-dir DIR] [--keep-work]
 *   trainer status   [--registry DIR]
 *   trainer rollback --to N [--registry DIR]
 *
 * Exit codes: 0 done (run: a new model is in production); 3 run: the model was registered but a gate
 * refused promotion (production unchanged); 2 usage; 1 any other failure (its code is printed).
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_PROMOTED: 3 } as const;

const USAGE = `Usage:
  trainer run      [--offline-store DIR] [--registry DIR] [--truth FILE] [--config DIR]
                   [--since ISO] [--until ISO] [--work-dir DIR] [--keep-work]
  trainer status   [--registry DIR]
  trainer rollback --to N [--registry DIR]

  --offline-store DIR  the compactor's Parquet store (env OFFLINE_STORE_ROOT, default ./offline-store)
  --registry DIR       model registry root (env MODEL_REGISTRY_ROOT, default ./model-registry)
  --truth FILE         true relevance (simulator truth.jsonl or a judgments CSV) for NDCG@10 vs truth
  --config DIR         data.json, gates.json, lightgbm.json (default trainer/config)
  --since/--until ISO  the examples' first instant / the data's end (defaults: data.json window, newest event)
  --work-dir DIR       scratch space (default a new temporary directory, removed afterwards)
  --keep-work          keep the scratch space (training file, LightGBM model, ONNX) for inspection`;

export const started = Date.now();
export const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
const progress = (line: string) => process.stderr.write(`${stamp()} ${line}\n`);

function usage(message: string): never {
  throw new TrainerError(TrainerErrorCode.USAGE, `${message}\n\n${USAGE}`);
}

function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || !/(Z|[+-]\d\d:?\d\d)$/.test(value))
    usage(`--${name}: expected an ISO-8601 instant with a zone, got ${value}`);
  return ms;
}

async function codeVersion(): Promise<Record<string, unknown>> {
  const git = promisify(execFile);
  const cwd = new URL('.', import.meta.url);
  try {
    const commit = (await git('git', ['rev-parse', 'HEAD'], { cwd })).stdout.trim();
    const dirty = (await git('git', ['status', '--porcelain', '--', '.'], { cwd })).stdout.trim() !== '';
    return { git_commit: commit, dirty };
  } catch {
    return { git_commit: null, dirty: null };
  }
}

/** Runs one command; resolves with the exit code. Typed failures reject (see cli.ts for their exit codes). */
export async function main(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        'offline-store': { type: 'string' },
        registry: { type: 'string' },
        truth: { type: 'string' },
        config: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'work-dir': { type: 'string' },
        'keep-work': { type: 'boolean' },
        to: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help || command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const env = loadConfig(trainerEnvSchema, environment);
  // Relative paths are the caller's: under `npm run -w` the process runs in the workspace, INIT_CWD is where npm was called.
  const cwd = environment['INIT_CWD'] ?? process.cwd();
  const resolve = (path: string) => resolvePath(cwd, path);
  const registry = new ModelRegistry(resolve(flags.registry ?? env.MODEL_REGISTRY_ROOT));

  switch (command) {
    case 'run': {
      // Every run that gets past its flags reports its outcome (trainer/src/run-metrics.ts).
      const runStarted = Date.now();
      const report = (outcome: RunOutcome) =>
        pushRunMetrics(
          env.TRAINER_PUSHGATEWAY_URL,
          { startedAtMs: runStarted, finishedAtMs: Date.now(), outcome },
          progress,
        );
      const failed = async (error: unknown): Promise<never> => {
        await report({ kind: 'failed' });
        throw error;
      };
      const since = instant('since', flags.since);
      const until = instant('until', flags.until);
      const config = await loadConfigFiles(resolve(flags.config ?? DEFAULT_CONFIG_DIR)).catch(failed);
      const workDir = flags['work-dir']
        ? resolve(flags['work-dir'])
        : await mkdtemp(join(tmpdir(), 'searchop-trainer-'));
      const storeRoot = resolve(flags['offline-store'] ?? env.OFFLINE_STORE_ROOT);
      progress(`trainer run: store ${storeRoot}, registry ${registry.root}, work ${workDir}`);
      try {
        const result = await runTraining({
          storeRoot,
          registry,
          config,
          workDir,
          duckdb: { memoryLimit: env.TRAINER_DUCKDB_MEMORY, threads: env.TRAINER_DUCKDB_THREADS },
          backfillWorkers: env.TRAINER_BACKFILL_WORKERS,
          ...(flags.truth ? { truthPath: resolve(flags.truth) } : {}),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(env.TRAINER_VENV ? { venvDir: resolve(env.TRAINER_VENV) } : {}),
          codeVersion: await codeVersion(),
          progress,
        }).catch(failed);
        await report({ kind: 'completed', result });
        const { data } = result;
        process.stdout.write(
          [
            '',
            `Data: ${data.counts.impressions} search impressions, ${data.counts.shownProducts} shown products; ` +
              `${data.counts.lists.log + data.counts.lists.backfill} served lists (${data.counts.lists.log} from the feature log, ` +
              `${data.counts.lists.backfill} backfilled), ${data.counts.groups} with clicks → ` +
              `${data.counts.examples.log + data.counts.examples.backfill} examples`,
            `Validation (served from ${new Date(result.evaluation.cutoffMs).toISOString()}): ${result.evaluation.groups} lists with clicks, ${result.evaluation.listsWithoutClicks} without`,
            '',
            metricsTable(result.evaluation),
            '',
            'Gates:',
            decisionText(result.decision),
            '',
            result.promoted
              ? `PROMOTED: model v${result.version} is now in production (was ${result.currentBefore === undefined ? 'none' : `v${result.currentBefore}`}).`
              : `NOT PROMOTED: model v${result.version} is registered; production stays at ${result.currentBefore === undefined ? 'none' : `v${result.currentBefore}`}.\n  ${result.decision.reasons.join('\n  ')}`,
            `Registry: ${registry.paths.model(result.version)}, ${registry.paths.metrics(result.version)}`,
            `Time: ${Object.entries(result.timings)
              .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
              .join(', ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
            '',
          ].join('\n'),
        );
        return result.promoted ? EXIT.OK : EXIT.NOT_PROMOTED;
      } finally {
        if (!flags['keep-work'] && !flags['work-dir']) await rm(workDir, { recursive: true, force: true });
      }
    }
    case 'status': {
      const current = await registry.current();
      const versions = await registry.versions();
      const rows: string[][] = [['version', 'created', 'gates', 'NDCG@10', 'MRR', 'CTR@10', 'NDCG@10 truth', '']];
      for (const version of versions) {
        const m = (await registry.metrics(version)) as
          | {
              created_at?: string;
              promoted?: boolean;
              metrics?: { new?: { ndcg_at_10?: number; mrr?: number; ctr_at_10?: number; truth_ndcg_at_10?: number } };
            }
          | undefined;
        const n = m?.metrics?.new;
        const f = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
        rows.push([
          `v${version}`,
          m?.created_at ?? '—',
          m?.promoted === undefined ? '—' : m.promoted ? 'passed' : 'failed',
          f(n?.ndcg_at_10),
          f(n?.mrr),
          f(n?.ctr_at_10),
          f(n?.truth_ndcg_at_10),
          version === current ? '← production' : '',
        ]);
      }
      process.stdout.write(
        `Registry ${registry.root}: production ${current === undefined ? 'none' : `v${current}`}, ${versions.length} versions\n` +
          (versions.length > 0 ? `${table(rows)}\n` : ''),
      );
      return EXIT.OK;
    }
    case 'rollback': {
      const to = flags.to;
      if (to === undefined || !/^v?[1-9]\d*$/.test(to)) usage('rollback needs --to N (a registered version)');
      const version = Number(to.replace(/^v/, ''));
      const { previous } = await registry.setCurrent(version, 'rollback by operator');
      process.stdout.write(`production: ${previous === undefined ? 'none' : `v${previous}`} → v${version}\n`);
      return EXIT.OK;
    }
    default:
      usage(`unknown command ${JSON.stringify(command)}`);
  }
}
