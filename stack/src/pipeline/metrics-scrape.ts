import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** The shape parse-prometheus-text-format gives (it ships no types). */
interface MetricFamily {
  readonly name: string;
  readonly type: string;
  readonly metrics: readonly {
    readonly labels?: Record<string, string>;
    readonly value?: string;
    readonly buckets?: Record<string, string>;
    readonly count?: string;
  }[];
}

export type Scrape = readonly MetricFamily[];

export async function scrape(url: string): Promise<Scrape> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? (parsePrometheusTextFormat(await response.text()) as MetricFamily[]) : [];
  } catch {
    return [];
  }
}

/** Sum of a counter or gauge's series matching `filter`. */
export function total(
  metrics: Scrape,
  name: string,
  filter: (labels: Record<string, string>) => boolean = () => true,
): number {
  const family = metrics.find((m) => m.name === name);
  return (family?.metrics ?? [])
    .filter((m) => filter(m.labels ?? {}))
    .reduce((sum, m) => sum + Number(m.value ?? 0), 0);
}

/** A histogram's cumulative buckets summed over all its series, sorted by bound: [le, count]. */
export function histogramBuckets(metrics: Scrape, name: string): [le: number, count: number][] {
  const family = metrics.find((m) => m.name === name && m.type === 'HISTOGRAM');
  const buckets = new Map<number, number>();
  for (const series of family?.metrics ?? []) {
    for (const [le, count] of Object.entries(series.buckets ?? {})) {
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(count));
    }
  }
  return [...buckets].sort((a, b) => a[0] - b[0]);
}

/** A histogram's observation count over all its series (its +Inf bucket). */
export function histogramCount(metrics: Scrape, name: string): number {
  return histogramBuckets(metrics, name).at(-1)?.[1] ?? 0;
}

/** A quantile of a histogram over all its series, linear inside the bucket as PromQL's histogram_quantile. */
export function histogramQuantile(metrics: Scrape, name: string, q: number): number | undefined {
  return bucketsQuantile(histogramBuckets(metrics, name), q);
}

/**
 * A quantile of what a histogram observed between two scrapes of the same process (the bucket
 * counts of `after` minus those of `before`).
 */
export function histogramQuantileBetween(before: Scrape, after: Scrape, name: string, q: number): number | undefined {
  const earlier = new Map(histogramBuckets(before, name));
  return bucketsQuantile(
    histogramBuckets(after, name).map(([le, count]) => [le, count - (earlier.get(le) ?? 0)]),
    q,
  );
}

function bucketsQuantile(sorted: readonly [le: number, count: number][], q: number): number | undefined {
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count === 0) return undefined;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of sorted) {
    if (cumulative >= rank)
      return Number.isFinite(le) ? lower + ((le - lower) * (rank - below)) / Math.max(cumulative - below, 1) : lower;
    lower = le;
    below = cumulative;
  }
  return lower;
}
