/** What one pipeline run achieved, as the summary prints it and the end-to-end test checks it. */
export interface PipelineReport {
  /** Records each processor handled, by event type (ranking-log: the ranker's feature log, read by the compactor). */
  readonly events: Readonly<Record<EventType, number>>;
  /** Quantiles from the processor's histogram; `top` is its largest finite bucket (a quantile there means "at least"). */
  readonly featureFreshness: { readonly p50?: number; readonly p99?: number; readonly top?: number };
  readonly consumerLag: number;
  /** Keys under the run's REDIS_KEY_PREFIX at the end: the online features the ranker reads. */
  readonly featureKeys: number;
  readonly rank: {
    readonly requests: number;
    readonly degraded: number;
    /** Degraded answers by reason (feature_store_timeout, feature_store_error, circuit_open, …). */
    readonly degradedReasons: Readonly<Record<string, number>>;
    readonly p50?: number;
    readonly p99?: number;
  };
  readonly models: readonly ModelReport[];
  readonly production: number | undefined;
  readonly world: string;
  readonly links: {
    readonly ranker: string;
    readonly collector: string;
    readonly featureProcessor: string;
    readonly compactor: string;
    readonly logs: string;
    readonly registry: string;
    readonly plots: readonly string[];
    /** Whether the URLs still answer after the summary (--keep-running). */
    readonly servicesKeepRunning: boolean;
  };
  readonly seconds: number;
}

export const EVENT_TYPES = ['impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog', 'ranking-log'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface RankingMetrics {
  readonly ndcg_at_10?: number;
  readonly mrr?: number;
  readonly ctr_at_10?: number;
  readonly truth_ndcg_at_10?: number;
}

export interface ModelReport {
  readonly version: number;
  readonly promoted: boolean;
  /** By ranking: new (this model), current (production before it), logged, popularity, text, … */
  readonly metrics: Readonly<Record<string, RankingMetrics>>;
  /** Served lists the training data took, by where their features came from. */
  readonly lists: { readonly log: number; readonly backfill: number };
  readonly examples: { readonly log: number; readonly backfill: number };
  readonly reasons: readonly string[];
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 1000).toFixed(1)} ms`);
const atLeast = (v: number | undefined, top: number | undefined) =>
  v !== undefined && top !== undefined && v >= top ? `≥ ${ms(top)}` : ms(v);
const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(4));

/** The summary a person reads at a glance; sections in a fixed order, each under its heading. */
export function formatSummary(r: PipelineReport): string {
  const lines: string[] = [];
  lines.push('Events processed (feature processor; ranking-log by the compactor)');
  for (const type of EVENT_TYPES) lines.push(`  ${type.padEnd(14)} ${r.events[type]}`);
  lines.push(
    `  feature freshness p50 ${atLeast(r.featureFreshness.p50, r.featureFreshness.top)}, p99 ${atLeast(r.featureFreshness.p99, r.featureFreshness.top)}; consumer lag at the end ${r.consumerLag} records`,
  );
  lines.push(`  feature store: ${r.featureKeys} Redis keys under this run's prefix`);
  lines.push('');
  lines.push(
    `/rank (closed loop): ${r.rank.requests} requests (${r.rank.degraded} degraded), latency p50 ${ms(r.rank.p50)}, p99 ${ms(r.rank.p99)}`,
  );
  const reasons = Object.entries(r.rank.degradedReasons).filter(([, n]) => n > 0);
  if (reasons.length > 0)
    lines.push(`  degraded by reason: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  lines.push('');
  const truth = r.world === 'homedepot' ? 'the judgments’ real relevance labels' : 'the world’s true relevance';
  lines.push(`Models (validation period; "NDCG@10 truth" is against ${truth})`);
  lines.push(
    `  ${'model'.padEnd(18)} ${'ranking'.padEnd(11)} ${'NDCG@10'.padStart(7)} ${'MRR'.padStart(7)} ${'CTR@10'.padStart(7)} ${'NDCG@10 truth'.padStart(13)}`,
  );
  for (const m of r.models) {
    const label = `v${m.version}${m.version === r.production ? ' (production)' : m.promoted ? '' : ' (not promoted)'}`;
    for (const [ranking, x] of Object.entries(m.metrics)) {
      lines.push(
        `  ${(ranking === 'new' ? label : '').padEnd(18)} ${(ranking === 'new' ? `v${m.version}` : ranking).padEnd(11)} ${f(x.ndcg_at_10).padStart(7)} ${f(x.mrr).padStart(7)} ${f(x.ctr_at_10).padStart(7)} ${f(x.truth_ndcg_at_10).padStart(13)}`,
      );
    }
  }
  lines.push('');
  lines.push('Training data (served lists with clicks, by where their features came from)');
  for (const m of r.models) {
    lines.push(
      `  v${m.version}: ${m.lists.log} lists from the ranker's feature log (${m.examples.log} examples), ${m.lists.backfill} backfilled (${m.examples.backfill} examples)` +
        (m.promoted ? '' : `; not promoted: ${m.reasons.join('; ') || 'gates failed'}`),
    );
  }
  lines.push('');
  lines.push(
    `Where to look next${r.links.servicesKeepRunning ? '' : ' (the services stopped with the run; --keep-running keeps them up)'}`,
  );
  lines.push(`  ranker       ${r.links.ranker}/rank (POST), /metrics, /docs/json`);
  lines.push(`  collector    ${r.links.collector}/v1/events, /metrics`);
  lines.push(`  processors   ${r.links.featureProcessor}/metrics, ${r.links.compactor}/metrics`);
  lines.push(`  logs         ${r.links.logs}`);
  lines.push(`  registry     ${r.links.registry}`);
  for (const plot of r.links.plots) lines.push(`  plot         ${plot}`);
  lines.push(`  finished in ${r.seconds.toFixed(0)} s`);
  return lines.join('\n');
}
