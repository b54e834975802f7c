import { describe, expect, it } from 'vitest';
import { browse, defaultClickModel } from './click-model.ts';
import { Rng } from './rng.ts';
import type { Grade } from './world/types.ts';

const RUNS = 40_000;

function clickRates(grades: readonly Grade[], seed = 1) {
  const rng = Rng.seeded(seed, 'click-model');
  const clicks = new Array<number>(grades.length).fill(0);
  let carts = 0;
  let clickTotal = 0;
  for (let run = 0; run < RUNS; run++) {
    const outcome = browse(grades, defaultClickModel, rng);
    for (const interaction of outcome.interactions) {
      clicks[interaction.index]!++;
      clickTotal++;
      if (interaction.carted) carts++;
    }
  }
  return { ctr: clicks.map((c) => c / RUNS), carts, clickTotal };
}

describe('click model', () => {
  it('gives fewer clicks further down a list of equally relevant results (position bias)', () => {
    for (const grade of [1, 2, 3] as const) {
      const { ctr } = clickRates(new Array<Grade>(12).fill(grade));
      for (let i = 1; i < ctr.length; i++) expect(ctr[i]!).toBeLessThan(ctr[i - 1]!);
      expect(ctr[0]! / ctr[11]!).toBeGreaterThan(2);
    }
  });

  it('gives more clicks to more relevant results at the same position', () => {
    const atTop = ([0, 1, 2, 3] as const).map((grade) => clickRates([grade, 1, 1, 1, 1, 1]).ctr[0]!);
    const atThird = ([0, 1, 2, 3] as const).map((grade) => clickRates([1, 1, grade, 1, 1, 1]).ctr[2]!);
    for (const rates of [atTop, atThird]) for (let g = 1; g < 4; g++) expect(rates[g]!).toBeGreaterThan(rates[g - 1]!);
  });

  it('carts only what was clicked, less than it clicks, and more often for relevant results', () => {
    const exact = clickRates(new Array<Grade>(10).fill(3));
    const related = clickRates(new Array<Grade>(10).fill(1));
    expect(exact.carts).toBeLessThan(exact.clickTotal);
    expect(exact.carts / exact.clickTotal).toBeGreaterThan(related.carts / related.clickTotal);
    // Purchases are a Bernoulli draw over carts at checkout, rising with the grade.
    for (let g = 1; g < 4; g++)
      expect(defaultClickModel.purchase[g]!).toBeGreaterThan(defaultClickModel.purchase[g - 1]!);
  });

  it('stops at a satisfying click and reports reaching the end only when nothing satisfied', () => {
    const rng = Rng.seeded(5, 'stops');
    for (let run = 0; run < 5_000; run++) {
      const outcome = browse([3, 2, 3, 1, 0, 3], defaultClickModel, rng);
      const satisfiedAt = outcome.interactions.findIndex((i) => i.satisfied);
      if (satisfiedAt >= 0) {
        expect(satisfiedAt).toBe(outcome.interactions.length - 1);
        expect(outcome.satisfied && !outcome.reachedEnd).toBe(true);
      }
      if (outcome.reachedEnd) expect(outcome.examined).toBe(6);
      for (const i of outcome.interactions) expect(i.index).toBeLessThan(outcome.examined);
    }
  });
});
