import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';
import { WeightedSampler, zipfWeights } from './sampling.ts';

describe('Zipf sampling', () => {
  it('draws ranks with frequency proportional to 1/rank^s: rank 1 twice as often as rank 2, slope -s on log-log', () => {
    const sampler = new WeightedSampler(zipfWeights(1_000, 1));
    const rng = Rng.seeded(3, 'zipf');
    const counts = new Array<number>(1_000).fill(0);
    for (let i = 0; i < 300_000; i++) counts[sampler.sample(rng)]!++;
    expect(counts[0]! / counts[1]!).toBeCloseTo(2, 0);
    expect(counts[0]! / counts[9]!).toBeGreaterThan(8);
    expect(counts[0]! / counts[9]!).toBeLessThan(12);
    // Least-squares slope of log(count) against log(rank) over the head, where counts are large.
    const points = counts.slice(0, 50).map((c, i) => [Math.log(i + 1), Math.log(c)] as const);
    const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
    const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
    const slope =
      points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    expect(slope).toBeGreaterThan(-1.1);
    expect(slope).toBeLessThan(-0.9);
  });

  it('never draws a zero weight and refuses weights that cannot be sampled', () => {
    const sampler = new WeightedSampler([0, 1, 0, 3]);
    const rng = Rng.seeded(1, 'zero');
    const seen = new Set(Array.from({ length: 5_000 }, () => sampler.sample(rng)));
    expect([...seen].sort()).toEqual([1, 3]);
    expect(() => new WeightedSampler([])).toThrow(RangeError);
    expect(() => new WeightedSampler([0, 0])).toThrow(RangeError);
    expect(() => new WeightedSampler([1, -1])).toThrow(RangeError);
  });
});
