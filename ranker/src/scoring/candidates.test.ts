import { describe, expect, it } from 'vitest';
import { isCandidateProblem, readCandidates, type CandidateList } from './candidates.ts';

const list = (value: ReturnType<typeof readCandidates>): CandidateList => {
  if (isCandidateProblem(value)) throw new Error(`unexpected problem: ${value.message}`);
  return value;
};

describe('readCandidates', () => {
  it('takes bare ids and objects, with NaN where no retrieval score was sent', () => {
    const read = list(readCandidates(['a', { product_id: 'b', retrieval_score: 2.5 }, { product_id: 'c' }]));
    expect(read.ids).toEqual(['a', 'b', 'c']);
    expect([...read.retrievalScores]).toEqual([Number.NaN, 2.5, Number.NaN]);
  });

  it('refuses a duplicate, naming both places, whatever form each took', () => {
    const problem = readCandidates(['a', 'b', { product_id: 'a', retrieval_score: 1 }]);
    expect(problem).toEqual({
      kind: 'duplicate',
      field: 'candidates[2]',
      message: 'duplicate product id "a" (also candidates[0])',
    });
  });

  it('treats ids that name Object.prototype members as ordinary ids', () => {
    const read = list(readCandidates(['__proto__', 'constructor', 'toString', 'hasOwnProperty']));
    expect(read.ids).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(isCandidateProblem(readCandidates(['__proto__', '__proto__']))).toBe(true);
  });

  it('refuses retrieval scores that are not finite numbers', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(readCandidates(['a', { product_id: 'b', retrieval_score: bad }])).toEqual({
        kind: 'invalid',
        field: 'candidates[1].retrieval_score',
        message: 'must be a finite number',
      });
    }
  });
});
