import { describe, expect, it } from 'vitest';
import { dcgAt, evaluateRanking, hitAt, ndcgAt, rankGroup, reciprocalRank, type Groups } from './metrics.ts';

function groupsOf(lists: { labels: number[]; positions?: number[] }[]): Groups {
  const starts = new Int32Array(lists.length + 1);
  const labels: number[] = [];
  const positions: number[] = [];
  lists.forEach((list, g) => {
    starts[g + 1] = starts[g]! + list.labels.length;
    labels.push(...list.labels);
    positions.push(...(list.positions ?? list.labels.map((_, i) => i + 1)));
  });
  return { starts, labels, positions };
}

describe('metrics', () => {
  it('computes DCG with 2^rel − 1 gains and a log2(rank + 1) discount', () => {
    // (2^3 − 1)/log2(2) + (2^0 − 1)/log2(3) + (2^1 − 1)/log2(4) = 7 + 0 + 0.5
    expect(dcgAt(10, [3, 0, 1])).toBeCloseTo(7.5, 12);
    expect(dcgAt(1, [3, 0, 1])).toBe(7);
  });

  it('normalises by the ideal order of the same labels and is undefined without a positive label', () => {
    // ideal [3, 1, 0]: 7 + 1/log2(3)
    expect(ndcgAt(10, [3, 0, 1])).toBeCloseTo(7.5 / (7 + 1 / Math.log2(3)), 12);
    expect(ndcgAt(10, [1, 0, 0])).toBe(1);
    expect(ndcgAt(10, [0, 0, 1])).toBeCloseTo(0.5, 12);
    expect(ndcgAt(10, [0, 0, 0])).toBeUndefined();
    // Only the first 10 count: a relevant item at rank 11 scores 0.
    expect(ndcgAt(10, [...Array<number>(10).fill(0), 2])).toBe(0);
  });

  it('takes the reciprocal rank of the first engaged item and the top-10 hit', () => {
    expect(reciprocalRank([0, 0, 2, 1])).toBeCloseTo(1 / 3, 12);
    expect(reciprocalRank([0, 0])).toBeUndefined();
    expect(hitAt(10, [...Array<number>(9).fill(0), 1])).toBe(true);
    expect(hitAt(10, [...Array<number>(10).fill(0), 1])).toBe(false);
  });

  it('orders by score, breaking ties by the shown position', () => {
    const groups = groupsOf([{ labels: [0, 0, 0, 0], positions: [1, 2, 3, 4] }]);
    expect(rankGroup(groups, 0, [0.1, 0.5, 0.5, Number.NaN])).toEqual([1, 2, 0, 3]);
    expect(rankGroup(groups, 0, [0, 0, 0, 0])).toEqual([0, 1, 2, 3]);
  });

  it('averages over groups with clicks and counts every list for CTR@10', () => {
    const groups = groupsOf([
      { labels: [0, 1, 0] }, // logged: NDCG 1/log2(3), RR 1/2, hit
      { labels: [3, 0] }, // NDCG 1, RR 1, hit
      { labels: [0, 0] }, // no click: excluded from NDCG/MRR, counts for CTR
    ]);
    const logged = [-1, -2, -3, -1, -2, -1, -2];
    const m = evaluateRanking(groups, logged, { listsWithoutClicks: 1 });
    expect(m.ndcgAt10).toBeCloseTo((1 / Math.log2(3) + 1) / 2, 12);
    expect(m.mrr).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(m.groupsWithClicks).toBe(2);
    expect(m.lists).toBe(4);
    expect(m.ctrAt10).toBeCloseTo(2 / 4, 12);

    // A perfect model puts the clicked item first in group 0.
    const perfect = evaluateRanking(groups, [0, 1, 0, 1, 0, 0, 0], { listsWithoutClicks: 1 });
    expect(perfect.ndcgAt10).toBe(1);
    expect(perfect.mrr).toBe(1);
  });

  it('scores against true grades when given, excluding groups with no relevant shown item', () => {
    const groups = groupsOf([{ labels: [1, 0, 0] }, { labels: [1, 0] }]);
    const truth = [0, 2, 3, 0, 0];
    const m = evaluateRanking(groups, [3, 2, 1, 2, 1], { truth });
    // group 0 in order [0, 2, 3]: DCG 3/log2(3) + 7/2; ideal [3, 2, 0]: 7 + 3/log2(3)
    expect(m.truthNdcgAt10).toBeCloseTo((3 / Math.log2(3) + 3.5) / (7 + 3 / Math.log2(3)), 12);
    expect(m.groupsWithTruth).toBe(1);
  });
});
