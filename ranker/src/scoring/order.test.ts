import { describe, expect, it } from 'vitest';
import { rankingOrder } from './order.ts';

describe('rankingOrder', () => {
  it('puts higher scores first', () => {
    expect([...rankingOrder(4, Float64Array.from([0.1, 0.9, -2, 0.5]))]).toEqual([1, 3, 0, 2]);
  });

  it('keeps input order among equal scores, so a ranking is deterministic', () => {
    expect([...rankingOrder(5, Float64Array.from([1, 2, 1, 2, 1]))]).toEqual([1, 3, 0, 2, 4]);
  });

  it('sorts NaN scores last, in input order', () => {
    expect([...rankingOrder(4, Float64Array.from([Number.NaN, -5, Number.NaN, 3]))]).toEqual([3, 1, 0, 2]);
  });

  it('is the input order without scores (no model)', () => {
    expect([...rankingOrder(3, undefined)]).toEqual([0, 1, 2]);
  });
});
