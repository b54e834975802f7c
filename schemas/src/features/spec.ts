import type { CatalogEntry } from './catalog-entry.ts';
import { bm25, termCoverage, type TextStats } from './text.ts';
import {
  COUNTER_COUNT,
  WINDOWS,
  WINDOW_TOTALS_LENGTH,
  windowFrame,
  windowTotals,
  type EntityState,
  type WindowFrame,
} from './tiles.ts';

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

/** Priors per window, in WINDOWS order: ctr, cart rate, purchase rate, conversion. */
const PRIOR_COUNT = 4;
const IMPRESSIONS = 0;
const CLICKS = 1;
const CARTS = 2;
const PURCHASES = 3;

/** Global rates per window, the priors that rates shrink toward (PRIOR_COUNT per window). */
export function priorsOf(global: EntityState | undefined, frame: WindowFrame): Float64Array {
  const g = windowTotals(global, frame, new Float64Array(WINDOW_TOTALS_LENGTH));
  const priors = new Float64Array(WINDOWS.length * PRIOR_COUNT);
  for (let w = 0; w < WINDOWS.length; w++) {
    const c = w * COUNTER_COUNT;
    const p = w * PRIOR_COUNT;
    priors[p] = rate(g[c + CLICKS]!, g[c + IMPRESSIONS]!, FALLBACK_PRIORS.ctr);
    priors[p + 1] = rate(g[c + CARTS]!, g[c + IMPRESSIONS]!, FALLBACK_PRIORS.cartRate);
    priors[p + 2] = rate(g[c + PURCHASES]!, g[c + IMPRESSIONS]!, FALLBACK_PRIORS.purchaseRate);
    priors[p + 3] = rate(g[c + PURCHASES]!, g[c + CLICKS]!, FALLBACK_PRIORS.conversion);
  }
  return priors;
}

type Block = (out: Float64Array, at: number, q: QueryContext, c: CandidateContext, prepared: PreparedQuery) => void;

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
    write(out, at, _q, _c, { priors, productCounts: p }) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const c = w * COUNTER_COUNT;
        const r = w * PRIOR_COUNT;
        const impressions = p[c + IMPRESSIONS]!;
        const clicks = p[c + CLICKS]!;
        const purchases = p[c + PURCHASES]!;
        out[at++] = impressions;
        out[at++] = clicks;
        out[at++] = purchases;
        out[at++] = smoothed(clicks, impressions, priors[r]!);
        out[at++] = smoothed(p[c + CARTS]!, impressions, priors[r + 1]!);
        out[at++] = smoothed(purchases, impressions, priors[r + 2]!);
        out[at++] = smoothed(purchases, clicks, priors[r + 3]!);
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
    write(out, at, _q, _c, { priors, pairCounts: p }) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const c = w * COUNTER_COUNT;
        const r = w * PRIOR_COUNT;
        const impressions = p[c + IMPRESSIONS]!;
        out[at++] = impressions;
        out[at++] = p[c + CLICKS]!;
        out[at++] = smoothed(p[c + CLICKS]!, impressions, priors[r]!);
        out[at++] = smoothed(p[c + CARTS]!, impressions, priors[r + 1]!);
        out[at++] = smoothed(p[c + PURCHASES]!, impressions, priors[r + 2]!);
      }
    },
  },
  {
    // The query itself: how often it is searched and how well it converts (the same for all candidates).
    names: perWindow((w) => [`query_searches_${w}`, `query_ctr_${w}`]),
    defaults: perWindow(() => [0, FALLBACK_PRIORS.ctr]),
    write(out, at, _q, _c, { priors, queryCounts: p }) {
      for (let w = 0; w < WINDOWS.length; w++) {
        const c = w * COUNTER_COUNT;
        out[at++] = p[c + IMPRESSIONS]!;
        out[at++] = smoothed(p[c + CLICKS]!, p[c + IMPRESSIONS]!, priors[w * PRIOR_COUNT]!);
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

/**
 * Per-request work shared by every candidate: window boundaries, the query's window sums and the
 * priors, plus scratch space for each candidate's sums (writeFeatures is synchronous, so one
 * PreparedQuery serves all candidates without allocating).
 */
export interface PreparedQuery {
  readonly context: QueryContext;
  readonly frame: WindowFrame;
  /** PRIOR_COUNT per window: ctr, cart rate, purchase rate, conversion. */
  readonly priors: Float64Array;
  /** windowTotals of the query, the current candidate's product and pair. */
  readonly queryCounts: Float64Array;
  readonly productCounts: Float64Array;
  readonly pairCounts: Float64Array;
}

export function prepareQuery(context: QueryContext): PreparedQuery {
  const frame = windowFrame(context.nowMs);
  return {
    context,
    frame,
    priors: priorsOf(context.global, frame),
    queryCounts: windowTotals(context.query, frame, new Float64Array(WINDOW_TOTALS_LENGTH)),
    productCounts: new Float64Array(WINDOW_TOTALS_LENGTH),
    pairCounts: new Float64Array(WINDOW_TOTALS_LENGTH),
  };
}

/** Writes one candidate's feature vector into `out` at `offset` (FEATURE_COUNT values). */
export function writeFeatures(
  out: Float64Array,
  offset: number,
  prepared: PreparedQuery,
  candidate: CandidateContext,
): void {
  windowTotals(candidate.product, prepared.frame, prepared.productCounts);
  windowTotals(candidate.pair, prepared.frame, prepared.pairCounts);
  let at = offset;
  for (let i = 0; i < GROUPS.length; i++) {
    const group = GROUPS[i]!;
    group.write(out, at, prepared.context, candidate, prepared);
    at += group.names.length;
  }
}

/** Convenience for one candidate (tests, explain): a fresh vector. */
export function featureVector(prepared: PreparedQuery, candidate: CandidateContext): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  writeFeatures(out, 0, prepared, candidate);
  return out;
}
