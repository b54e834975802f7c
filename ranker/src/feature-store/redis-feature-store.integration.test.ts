import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, defineConfig, loadConfig, redisEnv, type RedisClient } from '@searchop/runtime';
import { uniqueName } from '@searchop/runtime/testing';
import { keyLayout, terms } from '@searchop/schemas';
import { startRedisCluster, type EphemeralRedisCluster } from '@searchop/stack/testing';
import { FeatureFixture, deleteKeys, impressionEvent, product } from '../testing/feature-fixture.ts';
import { RedisFeatureStore } from './redis-feature-store.ts';

const NOW = Date.UTC(2026, 10, 2, 12);
const prefix = `${uniqueName('store')}:`;

function fixture(): FeatureFixture {
  const f = new FeatureFixture(keyLayout(prefix));
  f.product('p1', product('Cordless drill 18V'))
    .product('p2', product('Drill bits, 20 pieces'))
    .product('p3', product('Hammer'));
  return f.behaviour(impressionEvent('Drill', ['p1', 'p2', 'p3'], NOW - 60_000));
}

describe('RedisFeatureStore', () => {
  let cluster: EphemeralRedisCluster;
  let single: RedisClient;
  let clustered: RedisClient;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    single = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: inject('redisUrl') }));
    clustered = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_CLUSTER_NODES: cluster.nodes.join(',') }));
    await fixture().write(single);
    await fixture().write(clustered);
  });
  afterAll(async () => {
    await deleteKeys(single, prefix);
    single.disconnect();
    clustered.disconnect();
    await cluster.destroy();
  });

  it('reads the same features from one Redis and from a Redis Cluster, unknown products as undefined', async () => {
    const ids = ['p1', 'p2', 'p3', 'p-unknown'];
    const queryTerms = terms('Drill bits');
    const fromSingle = await new RedisFeatureStore(single, keyLayout(prefix)).fetch('drill bits', queryTerms, ids);
    const fromCluster = await new RedisFeatureStore(clustered, keyLayout(prefix)).fetch('drill bits', queryTerms, ids);
    for (const { snapshot, corrupt } of [fromSingle, fromCluster]) {
      expect(corrupt).toBe(0);
      expect(snapshot.products.map((s) => s?.tileCount ?? 0)).toEqual([3, 3, 3, 0]);
      expect(snapshot.catalog.map((c) => c?.t ?? null)).toEqual([
        ['cordless', 'drill', '18v'],
        ['drill', 'bits', '20', 'pieces'],
        ['hammer'],
        null,
      ]);
      // No impression was shown for "drill bits": its pairs and query are unknown; "drill" was.
      expect(snapshot.pairs).toEqual([undefined, undefined, undefined, undefined]);
      expect(snapshot.query).toBeUndefined();
      expect(snapshot.global?.tileCount).toBe(3);
      expect(snapshot.text.documents).toBe(3);
      expect(snapshot.text.averageLength).toBeCloseTo(8 / 3, 12);
      expect(snapshot.text.documentFrequency('drill')).toBe(2);
      expect(snapshot.text.documentFrequency('bits')).toBe(1);
    }
    expect(fromCluster.snapshot.products).toEqual(fromSingle.snapshot.products);
    const drill = await new RedisFeatureStore(clustered, keyLayout(prefix)).fetch('drill', ['drill'], ids);
    expect(drill.snapshot.pairs.map((p) => p !== undefined)).toEqual([true, true, true, false]);
    expect(drill.snapshot.query).toBeDefined();
  });

  it('serves a catalogue change from the next read on, though decoded entries are cached', async () => {
    const store = new RedisFeatureStore(single, keyLayout(prefix));
    const key = keyLayout(prefix).productCatalog('p-changing');
    await single.set(key, JSON.stringify({ t: ['old'], p: 100, r: null, n: 0, d: null, a: 1 }));
    expect((await store.fetch('x', [], ['p-changing'])).snapshot.catalog[0]?.t).toEqual(['old']);
    expect((await store.fetch('x', [], ['p-changing'])).snapshot.catalog[0]?.t).toEqual(['old']);
    await single.set(key, JSON.stringify({ t: ['new'], p: 90, r: null, n: 0, d: null, a: 0 }));
    expect((await store.fetch('x', [], ['p-changing'])).snapshot.catalog[0]).toMatchObject({ t: ['new'], p: 90, a: 0 });
    await single.del(key);
    expect((await store.fetch('x', [], ['p-changing'])).snapshot.catalog[0]).toBeUndefined();
  });

  it('serves an undecodable value as missing and counts it', async () => {
    await single.set(keyLayout(prefix).productCounters('p-corrupt'), Buffer.from([9, 0, 0, 0]));
    const { snapshot, corrupt } = await new RedisFeatureStore(single, keyLayout(prefix)).fetch(
      'x',
      [],
      ['p-corrupt', 'p1'],
    );
    expect(corrupt).toBe(1);
    expect(snapshot.products[0]).toBeUndefined();
    expect(snapshot.products[1]).toBeDefined();
  });
});
