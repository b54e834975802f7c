import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_DEFAULTS, FEATURE_INDEX, FEATURE_NAMES, featureVector, prepareQuery } from './spec.ts';
import { bm25, terms } from './text.ts';
import { applyIncrements, emptyState } from './tiles.ts';
import { incrementsOf } from './increments.ts';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const noText = { documents: 0, averageLength: 0, documentFrequency: () => 0 };
const f = (v: Float64Array, name: string) => v[FEATURE_INDEX.get(name)!]!;

describe('feature spec', () => {
  it('has unique names, one default each, and at least 30 features', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
    expect(FEATURE_DEFAULTS).toHaveLength(FEATURE_COUNT);
    expect(FEATURE_COUNT).toBeGreaterThanOrEqual(30);
  });

  it('gives a candidate nobody knows exactly the defaults', () => {
    const prepared = prepareQuery({ queryTerms: [], query: undefined, global: undefined, text: noText, nowMs: NOW });
    const v = featureVector(prepared, {
      product: undefined,
      pair: undefined,
      catalog: undefined,
      retrievalScore: Number.NaN,
    });
    expect([...v]).toEqual(FEATURE_DEFAULTS);
  });

  it('smooths rates toward the global rate: one click in one impression is not a CTR of 1', () => {
    const global = emptyState();
    applyIncrements(global, [{ at: NOW, counts: { impressions: 1000, clicks: 100 } }]);
    const product = emptyState();
    applyIncrements(product, [{ at: NOW, counts: { impressions: 1, clicks: 1 } }]);
    const prepared = prepareQuery({ queryTerms: [], query: undefined, global, text: noText, nowMs: NOW });
    const v = featureVector(prepared, { product, pair: undefined, catalog: undefined, retrievalScore: 1 });
    expect(f(v, 'product_ctr_24h')).toBeCloseTo((1 + 10 * 0.1) / 11, 12);
    expect(f(v, 'product_clicks_24h')).toBe(1);
    expect(f(v, 'product_hours_since_click')).toBe(0);
    expect(f(v, 'retrieval_score')).toBe(1);
    // No data in a window → exactly the prior.
    const unknown = featureVector(prepared, {
      product: undefined,
      pair: undefined,
      catalog: undefined,
      retrievalScore: 1,
    });
    expect(f(unknown, 'product_ctr_24h')).toBeCloseTo(0.1, 12);
  });

  it('counts an impression once per distinct product and its clicks on product, pair, query and global', () => {
    const impression = incrementsOf({
      type: 'search_impression',
      value: {
        event_id: 'e',
        request_id: null,
        occurred_at: NOW,
        query: 'Drill',
        normalized_query: 'drill',
        user_id: null,
        session_id: 's',
        page: 1,
        device: 'OTHER',
        items: [
          { product_id: 'a', position: 1, retrieval_score: null },
          { product_id: 'b', position: 2, retrieval_score: null },
          { product_id: 'a', position: 3, retrieval_score: null },
        ],
      },
    });
    expect(impression.map((i) => i.entity.kind)).toEqual(['product', 'pair', 'product', 'pair', 'query', 'global']);
    expect(impression.at(-1)!.increment.counts.impressions).toBe(2);
    const click = incrementsOf({
      type: 'click',
      value: {
        event_id: 'c',
        occurred_at: NOW,
        impression_id: 'e',
        request_id: null,
        query: null,
        normalized_query: null,
        user_id: null,
        session_id: 's',
        product_id: 'a',
        position: 1,
      },
    });
    expect(click.map((i) => i.entity.kind)).toEqual(['product', 'global']);
  });

  it('scores titles with BM25: a matching title beats a non-matching one, rarer terms weigh more', () => {
    const df = new Map([
      ['cordless', 10],
      ['drill', 50],
      ['hammer', 50],
    ]);
    const stats = { documents: 1000, averageLength: 4, documentFrequency: (t: string) => df.get(t) ?? 0 };
    const q = terms('Cordless Drill');
    expect(bm25(q, terms('18V cordless drill kit'), stats)).toBeGreaterThan(bm25(q, terms('claw hammer'), stats));
    expect(bm25(q, terms('cordless saw'), stats)).toBeGreaterThan(bm25(q, terms('drill press'), stats));
  });
});
