import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@searchop/schemas';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensurePythonEnv, runPythonModule, type PythonEnv } from './python.ts';

/**
 * The exported model scores in onnxruntime-node (the ranker's runtime) exactly as LightGBM does, on
 * rows whose values sit on split thresholds, one ulp either side, at NaN, +-0 and LightGBM's zero
 * threshold. Python trains a >= 100-tree, >= 30-feature lambdarank model on synthetic sessions,
 * exports it, and writes the sample with LightGBM's own scores.
 */

const TOLERANCE = 1e-6;
const TOP_K = 10;
const FEATURES = 32;
const TREES = 120;

const sampleSchema = z.object({
  featureNames: z.array(z.string()),
  rows: z.number().int().positive(),
  groups: z.array(z.number().int()),
  featuresFloat64LeBase64: z.string(),
  lightgbmScores: z.array(z.number()),
  rowsAtThreshold: z.number().int(),
  trees: z.number().int(),
});
type Sample = z.infer<typeof sampleSchema>;

const exportSchema = z.object({
  trees: z.number().int(),
  features: z.number().int(),
  parity: z.object({ max_abs_diff: z.number(), top10_identical: z.boolean() }),
});

function topK(scores: Float64Array | readonly number[], rows: readonly number[]): number[] {
  return [...rows].sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b).slice(0, TOP_K);
}

/** Row-major doubles, bit for bit (NaN, infinities and -0 included). */
function featureMatrix(sample: Sample): Float64Array {
  const bytes = Buffer.from(sample.featuresFloat64LeBase64, 'base64');
  expect(bytes.length).toBe(sample.rows * sample.featureNames.length * 8);
  const matrix = new Float64Array(sample.rows * sample.featureNames.length);
  for (let i = 0; i < matrix.length; i++) matrix[i] = bytes.readDoubleLE(i * 8);
  return matrix;
}

function rowsByGroup(groups: readonly number[]): number[][] {
  const byGroup = new Map<number, number[]>();
  groups.forEach((group, row) => {
    const rows = byGroup.get(group) ?? [];
    rows.push(row);
    byGroup.set(group, rows);
  });
  return [...byGroup.values()];
}

describe('ONNX export parity with LightGBM in onnxruntime-node', () => {
  let dir: string;
  let env: PythonEnv;
  let modelPath: string;
  let sample: Sample;
  let exported: z.infer<typeof exportSchema>;

  beforeAll(async () => {
    // Creates <repo>/.venv on first use (~30 s); the test never skips for want of Python packages.
    env = await ensurePythonEnv({ onLine: (line) => console.log(line) });
    dir = await mkdtemp(join(tmpdir(), 'searchop-onnx-parity-'));
    const config = JSON.parse(await readFile(new URL('../config/lightgbm.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(dir, 'config.json'),
      // Early stopping off: the check needs the full tree count, not the best validation round.
      JSON.stringify({ ...config, num_boost_round: TREES, early_stopping_rounds: null }),
    );
    await runPythonModule(env, 'searchop_trainer.synthetic', [
      ...['--out', join(dir, 'sessions.parquet'), '--groups', '1200', '--features', String(FEATURES)],
    ]);
    await runPythonModule(env, 'searchop_trainer.fit', [
      ...['--data', join(dir, 'sessions.parquet'), '--config', join(dir, 'config.json'), '--out', dir],
    ]);
    modelPath = join(dir, 'model.onnx');
    const exportRun = await runPythonModule(env, 'searchop_trainer.export_onnx', [
      ...['--model', join(dir, 'model.txt'), '--out', modelPath, '--spec-version', 'parity-test'],
    ]);
    exported = exportSchema.parse(exportRun.result);
    await runPythonModule(env, 'searchop_trainer.parity', [
      ...['--model', join(dir, 'model.txt'), '--out', join(dir, 'sample.json'), '--rows', '3000'],
    ]);
    sample = sampleSchema.parse(JSON.parse(await readFile(join(dir, 'sample.json'), 'utf8')));
  }, 900_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains a model of the size under test and a sample full of threshold values', () => {
    expect(exported.trees).toBeGreaterThanOrEqual(100);
    expect(exported.features).toBeGreaterThanOrEqual(30);
    expect(sample.trees).toBe(exported.trees);
    expect(sample.featureNames).toHaveLength(FEATURES);
    expect(sample.rowsAtThreshold).toBeGreaterThan(sample.rows * 0.9);
    expect(featureMatrix(sample).some(Number.isNaN)).toBe(true);
    // The exporter's own check (Python onnxruntime) passed before the file was written.
    expect(exported.parity.max_abs_diff).toBeLessThanOrEqual(1e-9);
  });

  for (const threads of [1, undefined] as const) {
    it(`scores within ${TOLERANCE} of LightGBM with the same top-${TOP_K} (${threads === 1 ? 'one thread' : 'default threads'})`, async () => {
      const session = await InferenceSession.create(modelPath, {
        ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
      });
      try {
        expect(session.inputNames).toEqual([MODEL_INPUT_NAME]);
        expect(session.outputNames).toEqual([MODEL_OUTPUT_NAME]);
        const input = featureMatrix(sample);
        const outputs = await session.run({
          [MODEL_INPUT_NAME]: new Tensor('float64', input, [sample.rows, sample.featureNames.length]),
        });
        const output = outputs[MODEL_OUTPUT_NAME];
        expect(output?.type).toBe('float64');
        const scores = output?.data as Float64Array;
        expect(scores).toHaveLength(sample.rows);

        let maxDiff = 0;
        scores.forEach((score, row) => {
          maxDiff = Math.max(maxDiff, Math.abs(score - (sample.lightgbmScores[row] as number)));
        });
        expect(Number.isFinite(maxDiff)).toBe(true);
        expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);

        const groups = rowsByGroup(sample.groups);
        const differing = groups.filter(
          (rows) => topK(scores, rows).join() !== topK(sample.lightgbmScores, rows).join(),
        );
        expect(groups.length).toBeGreaterThanOrEqual(100);
        expect(differing).toEqual([]);
        console.log(`onnxruntime-node (${threads ?? 'default'} threads): max |diff| ${maxDiff.toExponential(2)}`);
      } finally {
        await session.release();
      }
    });
  }
});
