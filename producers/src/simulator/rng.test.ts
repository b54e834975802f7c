import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';

const draws = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.float());

describe('Rng', () => {
  it('repeats a stream exactly for the same seed and label, and differs across seeds and labels', () => {
    expect(draws(Rng.seeded(7, 'a'), 100)).toEqual(draws(Rng.seeded(7, 'a'), 100));
    expect(draws(Rng.seeded(7, 'a'), 100)).not.toEqual(draws(Rng.seeded(8, 'a'), 100));
    expect(draws(Rng.seeded(7, 'a'), 100)).not.toEqual(draws(Rng.seeded(7, 'b'), 100));
  });

  it('draws floats in [0, 1) with a uniform mean and integers within inclusive bounds', () => {
    const rng = Rng.seeded(1, 'uniform');
    const floats = draws(rng, 20_000);
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect(floats.reduce((a, b) => a + b, 0) / floats.length).toBeCloseTo(0.5, 1);
    const ints = new Set(Array.from({ length: 2_000 }, () => rng.int(3, 6)));
    expect([...ints].sort()).toEqual([3, 4, 5, 6]);
  });

  it('makes well-formed, distinct version 4 UUIDs', () => {
    const rng = Rng.seeded(1, 'ids');
    const ids = Array.from({ length: 10_000 }, () => rng.uuid());
    for (const id of ids.slice(0, 100))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('samples distinct items and shuffles to a permutation', () => {
    const rng = Rng.seeded(1, 'sample');
    const items = Array.from({ length: 30 }, (_, i) => i);
    const sample = rng.sample(items, 10);
    expect(new Set(sample).size).toBe(10);
    expect(rng.sample(items, 50)).toHaveLength(30);
    expect(rng.shuffle([...items]).sort((a, b) => a - b)).toEqual(items);
  });

  it('draws the distributions it names, by their means', () => {
    const rng = Rng.seeded(2, 'moments');
    const mean = (f: () => number) => Array.from({ length: 40_000 }, f).reduce((a, b) => a + b, 0) / 40_000;
    expect(mean(() => rng.normal(3, 2))).toBeCloseTo(3, 1);
    expect(mean(() => rng.exponential(5))).toBeCloseTo(5, 0);
    // Failures before the first success of Bernoulli(0.25): mean 0.75 / 0.25 = 3.
    expect(mean(() => rng.geometric(0.25))).toBeCloseTo(3, 0);
    // The median of a log-normal is its scale parameter.
    const logNormals = Array.from({ length: 20_001 }, () => rng.logNormal(30, 0.9)).sort((a, b) => a - b);
    expect(logNormals[10_000]! / 30).toBeCloseTo(1, 1);
  });
});
