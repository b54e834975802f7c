import { describe, expect, it } from 'vitest';
import { ProducerErrorCode } from '../../errors.ts';
import { gradeOfMeanRating, worldFromJudgments, type JudgmentRow } from './load-judgments.ts';

const rows: JudgmentRow[] = [
  {
    query: 'Gas mowe',
    productId: '1',
    productTitle: 'Toro Recycler Lawn Mower with Briggs &amp; Stratton Engine',
    relevance: 3,
  },
  { query: 'gas  mowe', productId: '2', productTitle: 'Honda 21 in. Mower', relevance: 2.33 },
  { query: 'gas mowe', productId: '1', productTitle: 'ignored: the first title of an id wins', relevance: 2 },
  {
    query: 'door guards',
    productId: '3',
    productTitle: 'MD 36 in. x 36 in. Aluminum Sheet, &quot;Silver&quot; &#39;A&#39;',
    relevance: 1,
  },
  { query: '!!!', productId: '3', productTitle: 'x', relevance: 2 },
];

describe('worldFromJudgments', () => {
  it('maps mean ratings on 1–3 to grades 0–3 by majority', () => {
    const table = [1, 1.25, 1.33, 1.5, 1.67, 1.75, 2, 2.25, 2.33, 2.5, 2.67, 2.75, 3].map(gradeOfMeanRating);
    expect(table).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
  });

  it('merges queries that normalise alike, averaging repeated judgments, and decodes HTML entities in titles', () => {
    const world = worldFromJudgments(rows, { seed: 1 });
    expect(world.source).toBe('judgments');
    expect(world.queries.map((q) => q.normalized).sort()).toEqual(['door guards', 'gas mowe']);
    const mower = world.queryByNormalized.get('gas mowe')!;
    expect(mower.text).toBe('Gas mowe');
    expect(mower.candidates).toEqual(['1', '2']);
    // (3 + 2) / 2 = 2.5 → 3; 2.33 → 2.
    expect([...mower.grades]).toEqual([
      ['1', 3],
      ['2', 2],
    ]);
    expect(world.productById.get('1')!.title).toBe('Toro Recycler Lawn Mower with Briggs & Stratton Engine');
    expect(world.productById.get('3')!.title).toBe(`MD 36 in. x 36 in. Aluminum Sheet, "Silver" 'A'`);
    expect(world.queryByNormalized.get('door guards')!.grades.get('3')).toBe(0);
  });

  it('gives seeded popularity and prices: the same seed the same world', () => {
    expect(worldFromJudgments(rows, { seed: 4 })).toEqual(worldFromJudgments(rows, { seed: 4 }));
    const world = worldFromJudgments(rows, { seed: 4 });
    expect(world.queries.map((q) => q.weight)).toEqual([1, 0.5]);
    for (const p of world.products) expect(p.priceMinor % 100).toBe(99);
  });

  it('refuses a relevance off the 1–3 scale with PRD_INPUT_INVALID', () => {
    const bad = [{ ...rows[0]!, relevance: 4 }];
    expect(() => worldFromJudgments(bad, { seed: 1 })).toThrow(
      expect.objectContaining({ code: ProducerErrorCode.INPUT_INVALID }),
    );
  });
});
