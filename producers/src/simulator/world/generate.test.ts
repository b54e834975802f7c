import { normalizeQuery } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { Retrieval } from '../retrieval.ts';
import { Rng } from '../rng.ts';
import { generateWorld } from './generate.ts';
import { ndcgAt } from './metrics.ts';
import type { World } from './types.ts';

const options = { seed: 11, products: 1_500, queries: 300 };
const world = generateWorld(options);

function meanNdcg(w: World, order: (q: World['queries'][number]) => readonly string[]): number {
  return w.queries.reduce((sum, q) => sum + ndcgAt(10, order(q), q.grades), 0) / w.queries.length;
}

describe('generateWorld', { timeout: 30_000 }, () => {
  it('is deterministic: the same options give an identical world, another seed another one', () => {
    expect(generateWorld(options)).toEqual(world);
    const other = generateWorld({ ...options, seed: 12 });
    expect(other.products.map((p) => p.title)).not.toEqual(world.products.map((p) => p.title));
  });

  it('makes the products and queries asked for, with complete, graded candidate sets', () => {
    expect(world.products).toHaveLength(1_500);
    expect(world.queries.length).toBeGreaterThan(280);
    expect(world.queries.length).toBeLessThanOrEqual(300);
    for (const q of world.queries) {
      expect(q.normalized).toBe(normalizeQuery(q.text));
      expect(q.candidates.length).toBeGreaterThan(0);
      expect(q.candidates.length).toBeLessThanOrEqual(60);
      expect(new Set(q.candidates).size).toBe(q.candidates.length);
      expect([...q.grades.keys()].sort()).toEqual([...q.candidates].sort());
      expect(Math.max(...q.grades.values())).toBeGreaterThanOrEqual(2);
    }
    for (const p of world.products) {
      expect(p.title.startsWith(p.brand!)).toBe(true);
      expect(p.categoryPath).toHaveLength(3);
      expect(p.priceMinor).toBeGreaterThan(0);
      if (p.rating !== null) expect(p.rating).toBeGreaterThanOrEqual(1);
      if (p.rating !== null) expect(p.rating).toBeLessThanOrEqual(5);
      expect(p.rating === null).toBe(p.reviewCount === 0);
    }
  });

  it('uses every grade, and gives query popularity a Zipf law', () => {
    const grades = [0, 0, 0, 0];
    for (const q of world.queries) for (const g of q.grades.values()) grades[g]!++;
    for (const count of grades) expect(count).toBeGreaterThan(world.queries.length);
    const weights = world.queries.map((q) => q.weight);
    expect(weights[0]).toBe(1);
    expect(weights[1]).toBeCloseTo(0.5);
    expect(weights[9]).toBeCloseTo(0.1);
  });

  it('makes title text informative but imperfect: BM25 beats random order and falls well short of the truth', () => {
    const retrieval = Retrieval.forWorld(world);
    const rng = Rng.seeded(1, 'shuffle');
    const text = meanNdcg(world, (q) => retrieval.retrieve(q).map((c) => c.productId));
    const random = meanNdcg(world, (q) => rng.shuffle([...q.candidates]));
    const ideal = meanNdcg(world, (q) => [...q.candidates].sort((a, b) => q.grades.get(b)! - q.grades.get(a)!));
    expect(ideal).toBeCloseTo(1);
    expect(text).toBeGreaterThan(random + 0.1);
    expect(text).toBeLessThan(0.85);
  });

  it('hides quality from text: among products of the asked-for type, rating tells grades apart', () => {
    // Exact-type products split into grades 2 and 3 by hidden quality, which ratings reveal noisily.
    const rated: { grade: number; rating: number }[] = [];
    for (const q of world.queries)
      for (const id of q.candidates) {
        const rating = world.productById.get(id)!.rating;
        const grade = q.grades.get(id)!;
        if (rating !== null && grade >= 2) rated.push({ grade, rating });
      }
    const mean = (g: number) => {
      const of = rated.filter((r) => r.grade === g);
      return of.reduce((a, r) => a + r.rating, 0) / of.length;
    };
    expect(mean(3)).toBeGreaterThan(mean(2));
  });
});
