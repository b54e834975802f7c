/**
 * PNG plots for benchmarks: a latency distribution (histogram per competing path, p50/p99 marked) and
 * a rate over time (throughput per path). A benchmark either calls `plotLatency` / `plotRate` with
 * its samples, or only dumps them with `writeSamples` to bench/results/<name>.samples.json — then
 * `npm run bench` (bench/run-all.ts) or `node bench/plot.ts [files…]` renders every such file to
 * bench/results/<name>.png. Rendering: Vega-Lite → SVG (vega, headless) → PNG (resvg), all npm
 * packages with prebuilt binaries, no browser.
 *
 *   node bench/plot.ts                      renders every bench/results/*.samples.json
 *   node bench/plot.ts path/x.samples.json  renders the files named
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  latencyDistributionSpec,
  rateOverTimeSpec,
  writePng,
  type LatencySample,
  type RatePoint,
} from '@searchop/stack/plot';

export type { LatencySample, RatePoint };

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** What a benchmark dumps for a plot; `kind` picks the chart. */
export type SamplesFile =
  | { readonly kind: 'latency'; readonly title: string; readonly samples: readonly LatencySample[] }
  | {
      readonly kind: 'rate';
      readonly title: string;
      readonly unit: string;
      readonly points: readonly RatePoint[];
    };

/** bench/results/<name>.png: latency samples (ms) of one or more series. */
export function plotLatency(name: string, title: string, samples: readonly LatencySample[]): Promise<string> {
  return writePng(join(RESULTS_DIR, `${name}.png`), latencyDistributionSpec(title, samples));
}

/** bench/results/<name>.png: a rate (events/s, requests/s) over seconds since the start, per series. */
export function plotRate(name: string, title: string, unit: string, points: readonly RatePoint[]): Promise<string> {
  return writePng(join(RESULTS_DIR, `${name}.png`), rateOverTimeSpec(title, unit, points));
}

/** bench/results/<name>.samples.json, for run-all (or `node bench/plot.ts`) to render later. */
export function writeSamples(name: string, data: SamplesFile): string {
  const path = join(RESULTS_DIR, `${name}.samples.json`);
  writeFileSync(path, `${JSON.stringify(data)}\n`);
  return path;
}

/** Renders one samples file to the PNG beside it (x.samples.json → x.png). */
export async function plotSamplesFile(path: string): Promise<string> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as SamplesFile;
  const out = join(dirname(path), `${basename(path, '.samples.json')}.png`);
  switch (data.kind) {
    case 'latency':
      return writePng(out, latencyDistributionSpec(data.title, data.samples));
    case 'rate':
      return writePng(out, rateOverTimeSpec(data.title, data.unit, data.points));
    default:
      throw new Error(
        `${path}: "kind" must be "latency" or "rate", got ${JSON.stringify((data as { kind?: unknown }).kind)}`,
      );
  }
}

export function samplesFiles(dir = RESULTS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.samples.json'))
    .sort()
    .map((f) => join(dir, f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : samplesFiles();
  for (const file of files) console.log(`${file} → ${await plotSamplesFile(file)}`);
  if (files.length === 0) console.log(`no *.samples.json in ${RESULTS_DIR}`);
}
