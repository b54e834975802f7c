import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.ts';

describe('RecentIds', () => {
  it('reports an id seen within the window, and forgets it within two windows', () => {
    const ids = new RecentIds(1_000, 100);
    expect(ids.seen('a', 0)).toBe(false);
    expect(ids.seen('a', 999)).toBe(true);
    expect(ids.seen('b', 1_000)).toBe(false); // a new generation; "a" is in the previous one
    expect(ids.seen('a', 1_999)).toBe(true); // kept up to twice the window
    expect(ids.seen('a', 2_000)).toBe(false); // its generation dropped: recorded anew
    expect(ids.seen('a', 2_999)).toBe(true);
  });

  it('remembers every id for at least the window, whenever in its generation it came', () => {
    const ids = new RecentIds(1_000, 100);
    expect(ids.seen('first', 0)).toBe(false);
    expect(ids.seen('late', 999)).toBe(false); // last moment of the first generation
    expect(ids.seen('x', 1_000)).toBe(false); // rotates
    expect(ids.seen('late', 1_998)).toBe(true); // 999 ms after it was recorded
    expect(ids.seen('first', 1_998)).toBe(true);
  });

  it('forgets everything after two idle windows', () => {
    const ids = new RecentIds(1_000, 100);
    ids.seen('a', 0);
    ids.seen('b', 500);
    expect(ids.seen('c', 2_500)).toBe(false); // 2 windows after the generation of a and b started
    expect(ids.size).toBe(1);
    expect(ids.seen('b', 2_500)).toBe(false);
    expect(ids.seen('a', 2_500)).toBe(false);
  });

  it('holds at most maxSize ids, and always the newest maxSize / 2', () => {
    const ids = new RecentIds(60_000, 6);
    for (const id of ['a', 'b', 'c', 'd']) expect(ids.seen(id, 0)).toBe(false);
    expect(ids.size).toBe(4); // a, b, c | d
    for (const id of ['a', 'b', 'c', 'd']) expect(ids.seen(id, 1)).toBe(true);
    for (const id of ['e', 'f', 'g']) expect(ids.seen(id, 1)).toBe(false); // g drops a, b, c
    expect(ids.size).toBe(4); // d, e, f | g
    expect(ids.seen('a', 2)).toBe(false);
    for (const id of ['d', 'e', 'f', 'g']) expect(ids.seen(id, 2)).toBe(true);
  });

  it('forgets an id on request, in either generation', () => {
    const ids = new RecentIds(1_000, 100);
    ids.seen('a', 0);
    ids.forget('a');
    expect(ids.seen('a', 500)).toBe(false);
    expect(ids.seen('a', 600)).toBe(true);
    ids.seen('x', 1_200); // "a" is now in the previous generation
    ids.forget('a');
    expect(ids.seen('a', 1_300)).toBe(false);
    expect(ids.seen('a', 1_400)).toBe(true);
  });

  it('stays exact at its size bound over many ids (the steady state of a busy collector)', () => {
    const max = 10_000;
    const ids = new RecentIds(3_600_000, max);
    let duplicates = 0;
    let largest = 0;
    for (let i = 0; i < 200_000; i++) {
      if (ids.seen(`id-${i}`, i)) duplicates++;
      largest = Math.max(largest, ids.size);
    }
    expect(duplicates).toBe(0);
    expect(largest).toBe(max);
    for (let i = 200_000 - max / 2; i < 200_000; i++) expect(ids.seen(`id-${i}`, 200_000)).toBe(true);
    expect(ids.seen(`id-${200_000 - max - 1}`, 200_000)).toBe(false);
  });
});
