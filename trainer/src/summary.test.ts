import { describe, expect, it } from 'vitest';
import { decide } from './gates.ts';
import { decisionText, metricsTable, table } from './summary.ts';

const metrics = (ndcg: number, truth?: number) => ({
  ndcgAt10: ndcg,
  mrr: ndcg - 0.1,
  ctrAt10: 0.5,
  groupsWithClicks: 10,
  lists: 12,
  ...(truth === undefined ? {} : { truthNdcgAt10: truth, groupsWithTruth: 9 }),
});

describe('run summary', () => {
  it('aligns a table: text left, numbers right', () => {
    expect(
      table([
        ['name', 'n'],
        ['a', '10'],
        ['long', '2'],
      ]),
    ).toBe('name   n\n----  --\na     10\nlong   2');
  });

  it('shows every ranking with its metrics, and the truth column only when there is truth', () => {
    const evaluation = {
      cutoffMs: 0,
      groups: 10,
      rows: 100,
      listsWithoutClicks: 2,
      results: [
        { name: 'new', description: 'model', metrics: metrics(0.5, 0.9) },
        { name: 'logged', description: 'shown order', metrics: metrics(0.4, 0.7) },
      ],
    } as const;
    expect(metricsTable(evaluation).split('\n')).toEqual([
      'ranking  NDCG@10     MRR  CTR@10  NDCG@10 truth  what',
      '-------  -------  ------  ------  -------------',
      'new       0.5000  0.4000  0.5000         0.9000  model',
      'logged    0.4000  0.3000  0.5000         0.7000  shown order',
    ]);
    const withoutTruth = {
      ...evaluation,
      results: [{ name: 'new', description: 'model', metrics: metrics(0.5) }],
    } as const;
    expect(metricsTable(withoutTruth)).not.toContain('truth');
  });

  it('lists each gate with pass or FAIL', () => {
    const config = {
      minimum: { ndcg_at_10: 0.25, mrr: 0.2, ctr_at_10: 0.1 },
      max_regression: 0.1,
      improvement: { metric: 'ndcg_at_10', min_relative: 0.05 },
    } as const;
    const text = decisionText(
      decide(config, { ndcg_at_10: 0.2, mrr: 0.3, ctr_at_10: 0.3 }, { kind: 'absent', why: 'none' }),
    );
    expect(text.split('\n')[0]).toBe('  FAIL  ndcg_at_10 0.2000 < minimum 0.25');
    expect(text.split('\n')[1]).toBe('  pass  mrr 0.3000 >= minimum 0.2');
  });
});
