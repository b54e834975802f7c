/**
 * Every benchmark in bench/, one after the other (they would skew one another side by side on two
 * cores), then BENCHMARKS.md rebuilt from their results:
 *
 *   npm run bench                                   all of them, then BENCHMARKS.md
 *   npm run bench -- --only ranker,trainer          some of them
 *   npm run bench -- --skip trainer
 *   npm run bench -- --collect                      no run: plots and BENCHMARKS.md from bench/results only
 *
 * A benchmark is any bench/*.ts other than this runner, plot.ts and the helpers in NOT_BENCHMARKS; each runs as
 * `node bench/<name>.ts` with its own defaults and the caller's environment (KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, REDIS_URL for those that need services), writes bench/results/<name>.md, and
 * may leave bench/results/*.samples.json for plots (bench/plot.ts).
 *
 * BENCHMARKS.md is the hand-written part above the marker line (summary table, caveats, reading
 * notes) followed by every bench/results/*.md, in BENCH_ORDER then alphabetically, and the plots.
 * Edit the results files (or the part above the marker), never the generated part.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { plotSamplesFile, RESULTS_DIR, samplesFiles } from './plot.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
export const MARKER =
  '<!-- Generated below by `npm run bench` (bench/run-all.ts) from bench/results/*.md and *.png: edit those, not this part. -->';
/** The order of sections in BENCHMARKS.md: the path of an event, then everything else alphabetically. */
const BENCH_ORDER = ['collector-and-sdk', 'feature-processor', 'feature-writer', 'trainer', 'ranker'];
const NOT_BENCHMARKS = new Set(['run-all', 'plot', 'cpuprofile-summary', 'feature-bench-shared']);

export function benchmarks(): string[] {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => basename(f, '.ts'))
    .filter((n) => !NOT_BENCHMARKS.has(n));
  return sortByOrder(names);
}

function sortByOrder(names: readonly string[]): string[] {
  const rank = (n: string) => (BENCH_ORDER.includes(n) ? BENCH_ORDER.indexOf(n) : BENCH_ORDER.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The hand-written head of BENCHMARKS.md, then every result section and the plots. */
export function assemble(previous: string, resultsDir: string): string {
  const at = previous.indexOf(MARKER);
  const head = (at >= 0 ? previous.slice(0, at) : previous).trimEnd();
  const files = readdirSync(resultsDir);
  const sections = sortByOrder(files.filter((f) => f.endsWith('.md')).map((f) => basename(f, '.md'))).map((name) =>
    readFileSync(join(resultsDir, `${name}.md`), 'utf8').trim(),
  );
  const plots = files
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => `![${basename(f, '.png')}](bench/results/${f})`);
  return [
    head,
    '',
    MARKER,
    '',
    ...sections.flatMap((s) => [s, '']),
    ...(plots.length > 0 ? ['# Plots', '', ...plots.flatMap((p) => [p, ''])] : []),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

async function run(name: string): Promise<{ name: string; code: number | null; seconds: number }> {
  const began = Date.now();
  console.log(
    `\n=== bench/${name}.ts (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  const child = spawn(process.execPath, [join(here, `${name}.ts`)], { cwd: repo, stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { name, code, seconds: (Date.now() - began) / 1000 };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      skip: { type: 'string' },
      collect: { type: 'boolean', default: false },
    },
  });
  const all = benchmarks();
  const list = (text: string | undefined) => (text ?? '').split(',').filter((s) => s !== '');
  for (const name of [...list(values.only), ...list(values.skip)])
    if (!all.includes(name)) throw new Error(`--only/--skip: no benchmark "${name}" (there are: ${all.join(', ')})`);
  const chosen = (values.only ? list(values.only) : all).filter((n) => !list(values.skip).includes(n));

  const outcomes: Awaited<ReturnType<typeof run>>[] = [];
  if (!values.collect) for (const name of sortByOrder(chosen)) outcomes.push(await run(name));

  for (const file of samplesFiles()) console.log(`plot: ${await plotSamplesFile(file)}`);
  const target = join(repo, 'BENCHMARKS.md');
  writeFileSync(target, assemble(existsSync(target) ? readFileSync(target, 'utf8') : '# Benchmarks\n', RESULTS_DIR));
  console.log(`\nBENCHMARKS.md rebuilt from ${RESULTS_DIR}`);
  if (outcomes.length > 0) {
    console.log('\n| benchmark | exit | seconds |\n| --- | ---: | ---: |');
    for (const o of outcomes) console.log(`| ${o.name} | ${o.code ?? 'killed'} | ${o.seconds.toFixed(0)} |`);
  }
  return outcomes.every((o) => o.code === 0) ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
