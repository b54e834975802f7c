import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.ts';

describe('RecentIds', () => {
  it('reports an id seen within the window and forgets it after', () => {
    const ids = new RecentIds(1_000, 100);
    expect(ids.seen('a', 0)).toBe(false);
    expect(ids.seen('a', 999)).toBe(true);
    expect(ids.seen('a', 1_000)).toBe(false); // expired, recorded anew at 1,000
    expect(ids.seen('a', 1_999)).toBe(true);
  });

  it('holds at most maxSize ids, evicting the oldest first', () => {
    const ids = new RecentIds(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) ids.seen(id, 0);
    expect(ids.size).toBe(3);
    expect(ids.seen('d', 1)).toBe(true);
    expect(ids.seen('c', 1)).toBe(true);
    expect(ids.seen('a', 1)).toBe(false); // evicted by d; recording it evicts b
    expect(ids.seen('b', 1)).toBe(false);
  });

  it('forgets an id on request, and a forgotten-then-seen id keeps its new entry', () => {
    const ids = new RecentIds(1_000, 100);
    ids.seen('a', 0);
    ids.forget('a');
    expect(ids.seen('a', 500)).toBe(false);
    // The first FIFO slot of "a" (time 0) expires at 1,000 but must not remove the entry of 500.
    expect(ids.seen('x', 1_200)).toBe(false);
    expect(ids.seen('a', 1_200)).toBe(true);
    expect(ids.seen('a', 1_500)).toBe(false);
  });

  it('stays exact at its size bound over many ids (the steady state of a busy collector)', () => {
    const max = 10_000;
    const ids = new RecentIds(3_600_000, max);
    let duplicates = 0;
    for (let i = 0; i < 200_000; i++) if (ids.seen(`id-${i}`, i)) duplicates++;
    expect(duplicates).toBe(0);
    expect(ids.size).toBe(max);
    expect(ids.seen(`id-${199_999}`, 200_000)).toBe(true);
    expect(ids.seen(`id-${200_000 - max}`, 200_000)).toBe(true);
    expect(ids.seen(`id-${200_000 - max - 1}`, 200_000)).toBe(false);
    expect(ids.size).toBe(max);
  });
});
