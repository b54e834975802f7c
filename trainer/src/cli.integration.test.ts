import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MODEL_INPUT_NAME } from '@searchop/schemas';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjsonToOfflineStore } from './data/testing/ndjson-store.ts';
import { EXIT } from './commands.ts';

/**
 * End to end on simulator data: the simulator (its own CLI, simulated clock) writes ten days of a
 * generated world's shopping — ranked by BM25, the text baseline — with the world's true relevance;
 * the events go into an offline store in the compactor's layout and encoding; `trainer run` (its own
 * CLI, a child process) builds point-in-time data through DuckDB, fits, exports, evaluates and promotes.
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const node = process.execPath;
const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), 'trainer-e2e-'));
afterAll(() => rm(work, { recursive: true, force: true }));

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: readonly string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(node, [join(repo, 'trainer/src/cli.ts'), ...args], {
      cwd: repo,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, TRAINER_DUCKDB_MEMORY: '2GB' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const store = join(work, 'store');
const registry = join(work, 'registry');
const truth = join(work, 'world', 'truth.jsonl');

interface MetricsFile {
  promoted: boolean;
  decision: { reasons: string[] };
  metrics: Record<string, { ndcg_at_10: number; mrr: number; ctr_at_10: number; truth_ndcg_at_10: number }>;
  data: { counts: { examples: { backfill: number } } };
  training: { num_trees: number; early_stopping_min_rounds: number; validation_ndcg_at_10_by_round: number[] };
  export: { parity: { max_abs_diff: number } };
  feature_spec_version: string;
}
const metricsOf = async (version: number) =>
  JSON.parse(await readFile(join(registry, 'artifacts', `training_metrics_v${version}.json`), 'utf8')) as MetricsFile;
const pointer = async () => (await readFile(join(registry, 'models', 'current_model_version.txt'), 'utf8')).trim();

beforeAll(async () => {
  const events = join(work, 'events.ndjson');
  await run(
    node,
    [
      join(repo, 'producers/src/simulator/main.ts'),
      ...['--clock', 'simulated', '--start', '2026-03-01T00:00:00Z', '--duration', String(10 * 86_400)],
      ...['--rate', '0.08', '--seed', '42', '--world-seed', '1', '--ranker', 'text'],
      ...['--sink', 'ndjson', '--sink-path', events, '--out-dir', join(work, 'world'), '--progress-seconds', '60'],
    ],
    { cwd: repo, maxBuffer: 16 * 1024 * 1024 },
  );
  await ndjsonToOfflineStore(events, store, { partitions: 2 });
}, 600_000);

describe('trainer run on simulator data', () => {
  it('promotes a model that beats the logged order and popularity against the true relevance', async () => {
    const first = await cli(['run', '--offline-store', store, '--registry', registry, '--truth', truth]);
    expect(first.code, first.stderr).toBe(EXIT.OK);
    expect(first.stdout).toContain('PROMOTED: model v1 is now in production');
    expect(first.stdout).toMatch(/ranking\s+NDCG@10\s+MRR\s+CTR@10\s+NDCG@10 truth/);
    expect(await pointer()).toBe('1');

    const m = await metricsOf(1);
    expect(m.promoted).toBe(true);
    expect(m.data.counts.examples.backfill).toBeGreaterThan(10_000);
    expect(m.export.parity.max_abs_diff).toBeLessThanOrEqual(1e-9);
    const { new: model, logged, popularity } = m.metrics;
    expect(model!.truth_ndcg_at_10).toBeGreaterThan(logged!.truth_ndcg_at_10);
    expect(model!.truth_ndcg_at_10).toBeGreaterThan(popularity!.truth_ndcg_at_10);
    // Click NDCG@10 on validation peaks within the first trees (clicks reward the position-biased logged
    // order); the floor of early_stopping_min_rounds keeps the model learning the true relevance.
    expect(m.training.early_stopping_min_rounds).toBeGreaterThanOrEqual(50);
    expect(m.training.num_trees).toBeGreaterThanOrEqual(m.training.early_stopping_min_rounds);

    // The registered model is what the ranker loads: one double [N, F] input, the version stamped in.
    const bytes = await readFile(join(registry, 'models', 'model_v1.onnx'));
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toEqual([MODEL_INPUT_NAME]);
    await session.release();
    expect(bytes.toString('latin1')).toContain('searchop.model_version');
  }, 900_000);

  it('registers but does not promote a model that is no better than production, and says why', async () => {
    const second = await cli(['run', '--offline-store', store, '--registry', registry, '--truth', truth]);
    expect(second.code, second.stderr).toBe(EXIT.NOT_PROMOTED);
    expect(second.stdout).toContain('NOT PROMOTED: model v2 is registered; production stays at v1');
    expect(second.stdout).toMatch(/ndcg_at_10 .* vs v1's .*not more than \+5\.0% needed/);
    expect(await pointer()).toBe('1');
    const m = await metricsOf(2);
    expect(m.promoted).toBe(false);
    expect(m.metrics['current']).toBeDefined();
    expect(m.decision.reasons.length).toBeGreaterThan(0);
  }, 900_000);

  it('rolls back (here: forward) to a named version in one command and shows it in status', async () => {
    const rollback = await cli(['rollback', '--to', '2', '--registry', registry]);
    expect(rollback.code, rollback.stderr).toBe(EXIT.OK);
    expect(rollback.stdout).toBe('production: v1 → v2\n');
    expect(await pointer()).toBe('2');
    const status = await cli(['status', '--registry', registry]);
    expect(status.stdout).toContain('production v2, 2 versions');
    expect(status.stdout).toMatch(/v2 .*← production/);
    expect((await cli(['rollback', '--to', '9', '--registry', registry])).code).toBe(EXIT.FAILED);
    expect(await pointer()).toBe('2');
    expect((await cli(['rollback', '--registry', registry])).code).toBe(EXIT.USAGE);
  }, 120_000);
});
