import { describe, expect, it } from 'vitest';
import {
  FEATURE_COUNT,
  FEATURE_DEFAULTS,
  FEATURE_INDEX,
  applyIncrements,
  emptyState,
  featureVector,
  prepareQuery,
  terms,
} from '@searchop/schemas';
import { UNKNOWN_FEATURES, buildFeatureMatrix, type FeatureSnapshot } from './feature-matrix.ts';

const NOW = Date.UTC(2026, 10, 2, 9, 30);
const row = (matrix: Float64Array, i: number) => [...matrix.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT)];

describe('buildFeatureMatrix', () => {
  it("gives every candidate of a degraded request exactly the spec's defaults, plus its retrieval score", () => {
    const matrix = buildFeatureMatrix(
      terms('cordless drill'),
      UNKNOWN_FEATURES,
      Float64Array.from([7.5, Number.NaN]),
      NOW,
    );
    const retrieval = FEATURE_INDEX.get('retrieval_score')!;
    const expectedFirst = [...FEATURE_DEFAULTS];
    expectedFirst[retrieval] = 7.5;
    expect(row(matrix, 0)).toEqual(expectedFirst);
    expect(row(matrix, 1)).toEqual([...FEATURE_DEFAULTS]);
  });

  it("writes each candidate's row as the spec's featureVector does, the unknown ones included", () => {
    const global = emptyState();
    applyIncrements(global, [
      { at: NOW - 3_600_000, counts: { impressions: 5_000, clicks: 400, carts: 60, purchases: 20 } },
    ]);
    const product = emptyState();
    applyIncrements(product, [{ at: NOW - 60_000, counts: { impressions: 30, clicks: 6, purchases: 1 } }]);
    const pair = emptyState();
    applyIncrements(pair, [{ at: NOW - 7_200_000, counts: { impressions: 10, clicks: 4 } }]);
    const text = { documents: 100, averageLength: 5, documentFrequency: (t: string) => (t === 'drill' ? 10 : 40) };
    const catalog = {
      t: terms('18V cordless drill'),
      p: 12_900,
      r: 4.5,
      n: 12,
      d: NOW - 86_400_000 * 30,
      a: 1 as const,
    };
    const snapshot: FeatureSnapshot = {
      query: undefined,
      global,
      text,
      products: [product, undefined],
      pairs: [pair],
      catalog: [catalog],
    };
    const queryTerms = terms('Cordless Drill');
    const matrix = buildFeatureMatrix(queryTerms, snapshot, Float64Array.from([3, Number.NaN]), NOW);
    const prepared = prepareQuery({ queryTerms, query: undefined, global, text, nowMs: NOW });
    expect(row(matrix, 0)).toEqual([...featureVector(prepared, { product, pair, catalog, retrievalScore: 3 })]);
    const unknown = [
      ...featureVector(prepared, {
        product: undefined,
        pair: undefined,
        catalog: undefined,
        retrievalScore: Number.NaN,
      }),
    ];
    expect(row(matrix, 1)).toEqual(unknown);
    // With global counters known, an unknown product's rates are exactly the global priors.
    expect(unknown[FEATURE_INDEX.get('product_ctr_24h')!]).toBeCloseTo(400 / 5_000, 12);
  });
});
