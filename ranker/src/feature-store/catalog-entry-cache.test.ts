import { describe, expect, it } from 'vitest';
import { decodeCatalogEntry, type CatalogEntry } from '@searchop/schemas';
import { CatalogEntryCache } from './redis-feature-store.ts';

const raw = (title: string[], price: number) =>
  Buffer.from(JSON.stringify({ t: title, p: price, r: null, n: 0, d: null, a: 1 }));

describe('CatalogEntryCache', () => {
  it('decodes a value once while Redis returns the same bytes, and again as soon as they change', () => {
    const cache = new CatalogEntryCache(10);
    let decodes = 0;
    const decode = (value: Buffer): CatalogEntry | undefined => {
      decodes++;
      return decodeCatalogEntry(value);
    };
    const first = cache.get('p1', raw(['drill'], 100), decode);
    expect(cache.get('p1', raw(['drill'], 100), decode)).toBe(first);
    expect(decodes).toBe(1);
    // The catalogue changed in Redis: the next read serves the new value, never the cached one.
    expect(cache.get('p1', raw(['drill'], 90), decode)?.p).toBe(90);
    expect(decodes).toBe(2);
    // Deleted from Redis: missing, whatever was cached.
    expect(cache.get('p1', null, decode)).toBeUndefined();
    expect(decodes).toBe(2);
  });

  it('keeps its own copy of the bytes, not a view of the reply it was read from', () => {
    const cache = new CatalogEntryCache(10);
    const reply = raw(['drill'], 100);
    cache.get('p1', reply, decodeCatalogEntry);
    // The client reuses its read buffers: what was cached must not change with them.
    reply.fill(0x20);
    let decodes = 0;
    const counting = (value: Buffer) => {
      decodes++;
      return decodeCatalogEntry(value);
    };
    expect(cache.get('p1', raw(['drill'], 100), counting)?.t).toEqual(['drill']);
    expect(decodes).toBe(0);
  });

  it('keeps at most its capacity, dropping the oldest, and never caches an undecodable value', () => {
    const cache = new CatalogEntryCache(2);
    for (const id of ['a', 'b', 'c']) cache.get(id, raw([id], 1), decodeCatalogEntry);
    expect(cache.size).toBe(2);
    let decodes = 0;
    const counting = (value: Buffer) => {
      decodes++;
      return decodeCatalogEntry(value);
    };
    cache.get('a', raw(['a'], 1), counting);
    cache.get('c', raw(['c'], 1), counting);
    expect(decodes).toBe(1);
    const failing = () => undefined;
    expect(cache.get('x', Buffer.from('{'), failing)).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.get('x', Buffer.from('{'), failing)).toBeUndefined();
  });
});
