/**
 * Trainer timings and onnxruntime-node scoring cost for a model of the production's size: a
 * 300-tree, 50-feature lambdarank model fitted on ~100k synthetic rows, exported with the exact
 * (double) exporter, then scored in onnxruntime-node for 100 and 1,000 rows on one thread and on
 * the default thread pool.
 *
 *   node trainer/src/bench/export-and-scoring.ts [--runs 300]
 *
 * Phases (about 1-3 minutes on 2 vCPUs): Python environment (warm check), synthetic data, fit,
 * export (with its parity self-check), scoring. Results go to stdout as Markdown.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MODEL_INPUT_NAME } from '@searchop/schemas';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ensurePythonEnv, runPythonModule } from '../python.ts';

const FEATURES = 50;
const TREES = 300;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' } } });
const runs = Number(values.runs);

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function scoring(modelPath: string, threads: number | undefined, rows: number): Promise<string> {
  const session = await InferenceSession.create(modelPath, {
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  });
  const input = new Float64Array(rows * FEATURES);
  for (let i = 0; i < input.length; i++) input[i] = i % 7 === 0 ? Number.NaN : Math.sin(i) * 10;
  const feeds = { [MODEL_INPUT_NAME]: new Tensor('float64', input, [rows, FEATURES]) };
  for (let i = 0; i < 30; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run(feeds);
    times.push(performance.now() - started);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return `| ${rows} | ${threads === undefined ? 'default' : threads} | ${quantile(times, 0.5).toFixed(3)} | ${quantile(times, 0.95).toFixed(3)} | ${mean.toFixed(3)} |`;
}

const dir = await mkdtemp(join(tmpdir(), 'searchop-bench-'));
try {
  const [env, setupSeconds] = await timed(() => ensurePythonEnv());
  const data = join(dir, 'sessions.parquet');
  const [, dataSeconds] = await timed(() =>
    runPythonModule(env, 'searchop_trainer.synthetic', [
      '--out',
      data,
      '--groups',
      '4000',
      '--features',
      `${FEATURES}`,
    ]),
  );
  const config = JSON.parse(await readFile(new URL('../../config/lightgbm.json', import.meta.url), 'utf8')) as object;
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ ...config, num_boost_round: TREES, early_stopping_rounds: null }),
  );
  const [fitRun, fitWall] = await timed(() =>
    runPythonModule(env, 'searchop_trainer.fit', ['--data', data, '--config', join(dir, 'config.json'), '--out', dir]),
  );
  const modelPath = join(dir, 'model.onnx');
  const [exportRun, exportWall] = await timed(() =>
    runPythonModule(env, 'searchop_trainer.export_onnx', [
      ...['--model', join(dir, 'model.txt'), '--out', modelPath, '--spec-version', 'bench'],
    ]),
  );
  const fit = fitRun.result as { fit_seconds: number; num_trees: number };
  const exported = exportRun.result as {
    export_seconds: number;
    parity_seconds: number;
    bytes: number;
    parity: { max_abs_diff: number; rows: number };
  };

  const lines = [
    `## Trainer export and scoring (${new Date().toISOString()}, load average ${loadavg()[0]?.toFixed(1)})`,
    '',
    `- Python environment check (warm): ${setupSeconds.toFixed(2)} s`,
    `- synthetic data (4,000 groups, ~100k rows, ${FEATURES} features): ${dataSeconds.toFixed(1)} s`,
    `- fit (${fit.num_trees} trees): ${fit.fit_seconds.toFixed(1)} s in LightGBM, ${fitWall.toFixed(1)} s wall`,
    `- export: ${exported.export_seconds.toFixed(2)} s to build, ${exported.parity_seconds.toFixed(2)} s parity check ` +
      `(${exported.parity.rows} rows, max |diff| ${exported.parity.max_abs_diff.toExponential(2)}), ` +
      `${exportWall.toFixed(1)} s wall, ${(exported.bytes / 1024).toFixed(0)} KiB`,
    '',
    `onnxruntime-node ${runs} runs each (ms):`,
    '',
    '| rows | intra-op threads | p50 | p95 | mean |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const rows of [100, 1000]) {
    for (const threads of [1, undefined]) lines.push(await scoring(modelPath, threads, rows));
  }
  console.log(lines.join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
