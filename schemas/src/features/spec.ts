import type { CatalogEntry } from './catalog-entry.ts';
import { bm25, termCoverage, type TextStats } from './text.ts';
import { WINDOWS, windowCounts, type Counts, type EntityState } from './tiles.ts';

/**
 * The feature spec: names, order and meaning of every model input. The ranker builds exactly this
 * vector at request time, the trainer's backfill builds it as of each impression, and the ONNX
 * model carries FEATURE_SPEC_VERSION and the names so the ranker refuses a model built for another
 * spec. Changing a feature's meaning or order means a new version.
 */
export const FEATURE_SPEC_VERSION = 'v1';

/**
 * Smoothed rate (Bayesian average): (events + a·prior) / (trials + a). With a = 10 (Metarank's
 * default weight), a product with 1 click in 1 impression gets ~ (1 + 10·0.05)/11 ≈ 0.14, not 1.0.
 * The prior is the global rate in the same window, so no data means exactly the prior.
 */
export const SMOOTHING_WEIGHT = 10;

/** Priors used when even the global counters have no data in a window (a new deployment). */
export const FALLBACK_PRIORS = { ctr: 0.05, cartRate: 0.01, purchaseRate: 0.005, conversion: 0.1 } as const;

export interface QueryContext {
  readonly queryTerms: readonly string[];
  readonly query: EntityState | undefined;
  readonly global: EntityState | undefined;
  readonly text: TextStats;
  readonly nowMs: number;
}

export interface CandidateContext {
  readonly product: EntityState | undefined;
  readonly pair: EntityState | undefined;
  readonly catalog: CatalogEntry | undefined;
  /** NaN when the caller sent none. */
  readonly retrievalScore: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function smoothed(events: number, trials: number, prior: number): number {
  return (events + SMOOTHING_WEIGHT * prior) / (trials + SMOOTHING_WEIGHT);
}

function rate(events: number, trials: number, fallback: number): number {
  return trials > 0 ? events / trials : fallback;
}

interface Priors {
  ctr: number;
  cartRate: number;
  purchaseRate: number;
  conversion: number;
}

/** Global rates per window, the priors that rates shrink toward. */
export function priorsOf(global: EntityState | undefined, nowMs: number): Priors[] {
  return WINDOWS.map((w) => {
    const g = windowCounts(global, w, nowMs);
    return {
      ctr: rate(g.clicks, g.impressions, FALLBACK_PRIORS.ctr),
      cartRate: rate(g.carts, g.impressions, FALLBACK_PRIORS.cartRate),
      purchaseRate: rate(g.purchases, g.impressions, FALLBACK_PRIORS.purchaseRate),
      conversion: rate(g.purchases, g.clicks, FALLBACK_PRIORS.conversion),
    };
  });
}

type Block = (
  out: Float64Array,
  at: number,
  q: QueryContext,
  c: CandidateContext,
  priors: Priors[],
  counts: WindowCountsCache,
) => void;

interface WindowCountsCache {
  product: Counts[];
  pair: Counts[];
  query: Counts[];
}

interface FeatureGroup {
  readonly names: readonly string[];
  readonly defaults: readonly number[];
  readonly write: Block;
}

const windowNames = WINDOWS.map((w) => w.name);
const perWindow = <T>(pattern: (w: string) => T[]): T[] => windowNames.flatMap(pattern);

/** Feature groups in vector order. */
const GROUPS: readonly FeatureGroup[] = [
  {
    // Product behaviour: counts (popularity) and smoothed rates per window.
    names: perWindow((w) => [
      `product_impressions_${w}`,
      `product_clicks_${w}`,
      `product_purchases_${w}`,
      `product_ctr_${w}`,
      `product_cart_rate_${w}`,
      `product_purchase_rate_${w}`,
      `product_conversion_${w}`,
    ]),
    defaults: perWindow(() => [
      0,
      0,
      0,
      FALLBACK_PRIORS.ctr,
      FALLBACK_PRIORS.cartRate,
      FALLBACK_PRIORS.purchaseRate,
      FALLBACK_PRIORS.conversion,
    ]),
    write(out, at, _q, _c, priors, counts) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const p = counts.product[w]!;
        const prior = priors[w]!;
        out[at++] = p.impressions;
        out[at++] = p.clicks;
        out[at++] = p.purchases;
        out[at++] = smoothed(p.clicks, p.impressions, prior.ctr);
        out[at++] = smoothed(p.carts, p.impressions, prior.cartRate);
        out[at++] = smoothed(p.purchases, p.impressions, prior.purchaseRate);
        out[at++] = smoothed(p.purchases, p.clicks, prior.conversion);
      }
    },
  },
  {
    // Recency: hours since the product's last click / purchase; NaN (missing) when never.
    names: ['product_hours_since_click', 'product_hours_since_purchase'],
    defaults: [Number.NaN, Number.NaN],
    write(out, at, q, c) {
      out[at] =
        c.product && c.product.lastClickAt > 0 ? Math.max(0, q.nowMs - c.product.lastClickAt) / HOUR_MS : Number.NaN;
      out[at + 1] =
        c.product && c.product.lastPurchaseAt > 0
          ? Math.max(0, q.nowMs - c.product.lastPurchaseAt) / HOUR_MS
          : Number.NaN;
    },
  },
  {
    // The product under this query: the strongest signal when the pair has history.
    names: perWindow((w) => [
      `query_product_impressions_${w}`,
      `query_product_clicks_${w}`,
      `query_product_ctr_${w}`,
      `query_product_cart_rate_${w}`,
      `query_product_purchase_rate_${w}`,
    ]),
    defaults: perWindow(() => [0, 0, FALLBACK_PRIORS.ctr, FALLBACK_PRIORS.cartRate, FALLBACK_PRIORS.purchaseRate]),
    write(out, at, _q, _c, priors, counts) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const p = counts.pair[w]!;
        const prior = priors[w]!;
        out[at++] = p.impressions;
        out[at++] = p.clicks;
        out[at++] = smoothed(p.clicks, p.impressions, prior.ctr);
        out[at++] = smoothed(p.carts, p.impressions, prior.cartRate);
        out[at++] = smoothed(p.purchases, p.impressions, prior.purchaseRate);
      }
    },
  },
  {
    // The query itself: how often it is searched and how well it converts (the same for all candidates).
    names: perWindow((w) => [`query_searches_${w}`, `query_ctr_${w}`]),
    defaults: perWindow(() => [0, FALLBACK_PRIORS.ctr]),
    write(out, at, _q, _c, priors, counts) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const p = counts.query[w]!;
        out[at++] = p.impressions;
        out[at++] = smoothed(p.clicks, p.impressions, priors[w]!.ctr);
      }
    },
  },
  {
    // Catalogue attributes; NaN where the catalogue does not say.
    names: ['price', 'rating', 'review_count', 'age_days', 'available'],
    defaults: [Number.NaN, Number.NaN, 0, Number.NaN, 1],
    write(out, at, q, c) {
      const e = c.catalog;
      out[at] = e?.p != null ? e.p / 100 : Number.NaN;
      out[at + 1] = e?.r ?? Number.NaN;
      out[at + 2] = e?.n ?? 0;
      out[at + 3] = e?.d != null ? Math.max(0, q.nowMs - e.d) / DAY_MS : Number.NaN;
      out[at + 4] = e ? e.a : 1;
    },
  },
  {
    // Request-time text match of the query against the title, and the caller's retrieval score.
    names: ['text_bm25', 'text_coverage', 'retrieval_score'],
    defaults: [0, 0, Number.NaN],
    write(out, at, q, c) {
      const titleTerms = c.catalog?.t ?? [];
      out[at] = bm25(q.queryTerms, titleTerms, q.text);
      out[at + 1] = termCoverage(q.queryTerms, titleTerms);
      out[at + 2] = c.retrievalScore;
    },
  },
];

export const FEATURE_NAMES: readonly string[] = GROUPS.flatMap((g) => g.names);
/** The values of a candidate the feature store knows nothing about, when even the priors are unknown. */
export const FEATURE_DEFAULTS: readonly number[] = GROUPS.flatMap((g) => g.defaults);
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Index of each feature by name, for explain output and tests. */
export const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** Per-request work shared by every candidate: window sums of the query and the priors. */
export interface PreparedQuery {
  readonly context: QueryContext;
  readonly priors: Priors[];
  readonly queryCounts: Counts[];
}

export function prepareQuery(context: QueryContext): PreparedQuery {
  return {
    context,
    priors: priorsOf(context.global, context.nowMs),
    queryCounts: WINDOWS.map((w) => windowCounts(context.query, w, context.nowMs)),
  };
}

/** Writes one candidate's feature vector into `out` at `offset` (FEATURE_COUNT values). */
export function writeFeatures(
  out: Float64Array,
  offset: number,
  prepared: PreparedQuery,
  candidate: CandidateContext,
): void {
  const { context, priors, queryCounts } = prepared;
  const counts: WindowCountsCache = {
    product: WINDOWS.map((w) => windowCounts(candidate.product, w, context.nowMs)),
    pair: WINDOWS.map((w) => windowCounts(candidate.pair, w, context.nowMs)),
    query: queryCounts,
  };
  let at = offset;
  for (const group of GROUPS) {
    group.write(out, at, context, candidate, priors, counts);
    at += group.names.length;
  }
}

/** Convenience for one candidate (tests, explain): a fresh vector. */
export function featureVector(prepared: PreparedQuery, candidate: CandidateContext): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  writeFeatures(out, 0, prepared, candidate);
  return out;
}
