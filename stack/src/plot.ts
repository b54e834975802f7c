import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * PNG charts for the places a person would rather look than read (benchmarks, the pipeline's run):
 * a Vega-Lite spec rendered to SVG by Vega's headless view, then to PNG by resvg — all from npm
 * packages, no native build and no browser.
 */
export async function renderPng(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: scale },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    }).render();
    return png.asPng();
  } finally {
    view.finalize();
  }
}

export async function writePng(path: string, spec: TopLevelSpec): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await renderPng(spec));
  return path;
}

/** One latency sample, in milliseconds, of a named series (a competing path, a load level). */
export interface LatencySample {
  readonly series: string;
  readonly ms: number;
}

/**
 * The distribution of latencies: a histogram per series on a log-scaled millisecond axis (latencies
 * spread over orders of magnitude), with p50 and p99 marked and named in the legend.
 */
export function latencyDistributionSpec(title: string, samples: readonly LatencySample[]): TopLevelSpec {
  const bySeries = new Map<string, number[]>();
  for (const s of samples)
    if (s.ms > 0) (bySeries.get(s.series) ?? bySeries.set(s.series, []).get(s.series)!).push(s.ms);
  const label = new Map<string, string>();
  const rules: { series: string; quantile: string; ms: number }[] = [];
  for (const [series, values] of bySeries) {
    values.sort((a, b) => a - b);
    const q = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))]!;
    label.set(series, `${series} (n=${values.length}, p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms)`);
    rules.push(
      { series: label.get(series)!, quantile: 'p50', ms: q(0.5) },
      { series: label.get(series)!, quantile: 'p99', ms: q(0.99) },
    );
  }
  // Log-spaced bins: 20 per decade.
  const bins = new Map<string, number>();
  for (const s of samples) {
    if (s.ms <= 0) continue;
    const bin = Math.floor(Math.log10(s.ms) * 20);
    const key = `${label.get(s.series)}\u0000${bin}`;
    bins.set(key, (bins.get(key) ?? 0) + 1);
  }
  const bars = [...bins].map(([key, count]) => {
    const [series, bin] = key.split('\u0000') as [string, string];
    return { series, from: 10 ** (Number(bin) / 20), to: 10 ** ((Number(bin) + 1) / 20), count };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 280,
    layer: [
      {
        data: { values: bars },
        mark: { type: 'rect', opacity: 0.6 },
        encoding: {
          x: { field: 'from', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
          x2: { field: 'to' },
          y: { field: 'count', type: 'quantitative', title: 'requests', stack: null },
          color: {
            field: 'series',
            type: 'nominal',
            legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 0 },
          },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: {
          x: { field: 'ms', type: 'quantitative' },
          color: { field: 'series', type: 'nominal' },
          size: { value: 1.5 },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'text', dy: -4, align: 'left', dx: 3, baseline: 'bottom', fontSize: 10 },
        encoding: {
          x: { field: 'ms', type: 'quantitative' },
          y: { value: 0 },
          text: { field: 'quantile' },
          color: { field: 'series', type: 'nominal' },
        },
      },
    ],
  };
}

/** One point of a rate over time: seconds since the start, a value per second, a named series. */
export interface RatePoint {
  readonly seconds: number;
  readonly perSecond: number;
  readonly series: string;
}

/** A rate over time, one line per series (events per second of each processor, say), with phases marked. */
export function rateOverTimeSpec(
  title: string,
  unit: string,
  points: readonly RatePoint[],
  phases: readonly { readonly seconds: number; readonly label: string }[] = [],
): TopLevelSpec {
  const x = { field: 'seconds', type: 'quantitative', title: 'seconds since start' } as const;
  // Ticks at powers of ten (the symmetric log axis shows bursts and the steady trickle alike).
  const top = Math.max(1, ...points.map((p) => p.perSecond));
  const decades = [0, ...Array.from({ length: Math.ceil(Math.log10(top)) + 1 }, (_, i) => 10 ** i)];
  // Phases that start within 3% of the run of each other share one label.
  const span = Math.max(1, ...points.map((p) => p.seconds), ...phases.map((p) => p.seconds));
  const marks: { seconds: number; label: string }[] = [];
  for (const p of phases) {
    const last = marks.at(-1);
    if (last !== undefined && p.seconds - last.seconds < span * 0.03) last.label = `${last.label}, ${p.label}`;
    else marks.push({ seconds: p.seconds, label: p.label });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 280,
    layer: [
      {
        data: { values: marks },
        mark: { type: 'rule', color: '#999', strokeDash: [4, 3] },
        encoding: { x },
      },
      {
        data: { values: marks },
        mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -2, color: '#555', fontSize: 10, angle: 270 },
        encoding: { x, y: { value: 4 }, text: { field: 'label' } },
      },
      {
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: 'line', point: { size: 12 }, interpolate: 'linear' },
        encoding: {
          x,
          y: {
            field: 'perSecond',
            type: 'quantitative',
            title: `${unit} (symmetric log scale)`,
            scale: { type: 'symlog' },
            axis: { values: decades },
          },
          color: {
            field: 'series',
            type: 'nominal',
            legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 0 },
          },
        },
      },
    ],
  };
}

/** One bar of a bucketed distribution: `count` observations in [from, to). */
export interface Bucket {
  readonly series: string;
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/**
 * A distribution already bucketed (a Prometheus histogram scraped from a service, say): one bar per
 * bucket on a log-scaled axis. Prometheus buckets are cumulative; pass them through `fromCumulative`.
 */
export function bucketsSpec(title: string, unit: string, buckets: readonly Bucket[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 280,
    data: { values: buckets.filter((b) => b.count > 0).map((b) => ({ ...b, range: `${b.from}–${b.to}` })) },
    mark: { type: 'rect', opacity: 0.75, stroke: 'white' },
    encoding: {
      x: { field: 'from', type: 'quantitative', scale: { type: 'log' }, title: `${unit} (log scale)` },
      x2: { field: 'to' },
      y: { field: 'count', type: 'quantitative', title: 'observations in the bucket', stack: null },
      color: {
        field: 'series',
        type: 'nominal',
        legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 0 },
      },
    },
  };
}

/** Prometheus cumulative `le` buckets → per-bucket counts (the +Inf bucket drawn as one more step). */
export function fromCumulative(
  series: string,
  cumulative: readonly (readonly [le: number, count: number])[],
  scale = 1,
): Bucket[] {
  const sorted = [...cumulative].sort((a, b) => a[0] - b[0]);
  const out: Bucket[] = [];
  let lower = 0;
  let below = 0;
  for (const [le, count] of sorted) {
    const upper = Number.isFinite(le) ? le : lower * 2;
    // A log axis cannot start at 0: the first bucket starts a step below its bound.
    out.push({ series, from: (lower > 0 ? lower : upper / 2) * scale, to: upper * scale, count: count - below });
    lower = upper;
    below = count;
  }
  return out;
}
