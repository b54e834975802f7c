import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide, gatesConfigSchema, type GatesConfig } from './gates.ts';

const config: GatesConfig = gatesConfigSchema.parse(
  JSON.parse(readFileSync(new URL('../config/gates.json', import.meta.url), 'utf8')),
);
const good = { ndcg_at_10: 0.4, mrr: 0.35, ctr_at_10: 0.3 };

describe('promotion gates', () => {
  it('ships with the original design thresholds', () => {
    expect(config).toEqual({
      minimum: { ndcg_at_10: 0.25, mrr: 0.2, ctr_at_10: 0.1 },
      max_regression: 0.1,
      improvement: { metric: 'ndcg_at_10', min_relative: 0.05 },
    });
  });

  it('promotes a first model that clears the floors', () => {
    const decision = decide(config, good, { kind: 'absent', why: 'no production model yet' });
    expect(decision.promote).toBe(true);
    expect(decision.reasons).toEqual([]);
    expect(decision.checks.at(-1)?.detail).toBe('no comparison: no production model yet');
  });

  it('refuses a model under a floor and says which', () => {
    const decision = decide(config, { ...good, mrr: 0.19 }, { kind: 'absent', why: 'none' });
    expect(decision.promote).toBe(false);
    expect(decision.reasons).toEqual(['mrr 0.1900 < minimum 0.2']);
  });

  it('needs more than 5% NDCG@10 over the current model', () => {
    const current = { kind: 'comparable', version: 3, metrics: { ...good, ndcg_at_10: 0.4 } } as const;
    expect(decide(config, { ...good, ndcg_at_10: 0.42 }, current).promote).toBe(false);
    const exactly = decide(config, { ...good, ndcg_at_10: 0.4 * 1.05 }, current);
    expect(exactly.promote).toBe(false);
    expect(exactly.reasons[0]).toMatch(
      /^ndcg_at_10 0\.4200 vs v3's 0\.4000: \+5\.0% \(not more than \+5\.0% needed\)$/,
    );
    expect(decide(config, { ...good, ndcg_at_10: 0.43 }, current).promote).toBe(true);
  });

  it('refuses a model with any metric more than 10% below the current one, even when NDCG@10 improves', () => {
    const current = { kind: 'comparable', version: 2, metrics: good } as const;
    const decision = decide(config, { ndcg_at_10: 0.5, mrr: 0.35, ctr_at_10: 0.26 }, current);
    expect(decision.promote).toBe(false);
    expect(decision.reasons).toEqual(["ctr_at_10 0.2600 is 13.3% below v2's 0.3000 (more than 10.0%)"]);
    // 10% below exactly is allowed.
    expect(decide(config, { ndcg_at_10: 0.5, mrr: 0.35, ctr_at_10: 0.27 }, current).promote).toBe(true);
  });

  it('rejects configs with unknown keys or out-of-range values', () => {
    expect(() => gatesConfigSchema.parse({ ...config, extra: 1 })).toThrow();
    expect(() => gatesConfigSchema.parse({ ...config, max_regression: 1.5 })).toThrow();
  });
});
