import { createRedis, defineConfig, loadConfig, redisEnv, type RedisClient } from '@searchop/runtime';
import { uniqueName } from '@searchop/runtime/testing';
import {
  COUNTER_TTL_SECONDS,
  PAIR_FENCES_FIELD,
  keyLayout,
  pairField,
  topics,
  type BehaviourEvent,
} from '@searchop/schemas';
import { startRedisCluster, type EphemeralRedisCluster } from '@searchop/stack/testing';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FeatureWriter, type SourcedEvent } from './feature-writer.ts';
import { PairPruner } from './pair-pruner.ts';

const config = loadConfig(defineConfig(redisEnv), { REDIS_URL: inject('redisUrl') });
const redis = createRedis(config);
afterAll(() => redis.quit());
let cluster: EphemeralRedisCluster | undefined;
afterAll(() => cluster?.destroy());

const NOW = Date.UTC(2026, 10, 20, 12, 0);
const DAY = 86_400_000;
const IDLE_AT = NOW - COUNTER_TTL_SECONDS * 1000 - DAY; // past the counter TTL
const LIVE_AT = NOW - 2 * DAY;

/** Clicks of (query, product) at event times, as one partition's records from `offset` on. */
function clicks(pairs: readonly [query: string, productId: string, at: number][], offset = 0) {
  return pairs.map(([query, productId, at], i): SourcedEvent<BehaviourEvent> => ({
    spec: topics.clicks,
    partition: 0,
    offset: offset + i,
    event: {
      type: 'click',
      value: {
        event_id: `e${offset + i}`,
        occurred_at: at,
        request_id: null,
        user_id: null,
        session_id: 's',
        impression_id: null,
        query,
        normalized_query: query,
        product_id: productId,
        position: 1,
      },
    },
  }));
}

const fieldsOf = async (client: RedisClient, key: string) => (await client.hkeys(key)).sort();

describe('pair pruner (real Redis)', () => {
  it('deletes only the idle pairs of a pairs hash: live pairs, fences and unreadable values stay', async () => {
    const prefix = `${uniqueName('prune')}:`;
    const keys = keyLayout(prefix);
    const writer = new FeatureWriter(redis, keys);
    await writer.applyBehaviour(
      clicks([
        ['drill', 'idle', IDLE_AT],
        ['drill', 'live', LIVE_AT],
        ['saw', 'idle', IDLE_AT],
      ]),
    );
    const drill = keys.queryPairs('drill');
    await redis.hset(drill, pairField('junk'), 'not a state');
    const before = await redis.hgetallBuffer(drill);
    // Another deployment's pairs hash (another prefix) is not this layout's: untouched.
    const other = keyLayout(`${uniqueName('prune-other')}:`);
    await new FeatureWriter(redis, other).applyBehaviour(clicks([['drill', 'idle', IDLE_AT]]));

    // A large SCAN COUNT: the shared test Redis holds millions of other keys.
    const result = await new PairPruner(redis, keys).prune({ nowMs: NOW, count: 10_000 });

    expect(result).toEqual({ hashes: 2, fields: 4, pruned: 2, unreadable: 1 });
    expect(await fieldsOf(redis, drill)).toEqual([PAIR_FENCES_FIELD, pairField('junk'), pairField('live')].sort());
    const after = await redis.hgetallBuffer(drill);
    for (const field of Object.keys(after)) expect(after[field]).toEqual(before[field]);
    // A hash whose pairs all went keeps its fences (replays stay exactly-once) and its expiry.
    expect(await fieldsOf(redis, keys.queryPairs('saw'))).toEqual([PAIR_FENCES_FIELD]);
    expect(await redis.ttl(keys.queryPairs('saw'))).toBeGreaterThan(30 * 86_400);
    expect(await fieldsOf(redis, other.queryPairs('drill'))).toEqual([PAIR_FENCES_FIELD, pairField('idle')].sort());

    // A replay of the pruned pair's event changes nothing: the fences still hold it.
    expect((await new FeatureWriter(redis, keys).applyBehaviour(clicks([['saw', 'idle', IDLE_AT]]))).applied).toBe(0);
    expect(await fieldsOf(redis, keys.queryPairs('saw'))).toEqual([PAIR_FENCES_FIELD]);
  });

  it('keeps a pair a writer changed between judgement and delete, and never deletes the fences', async () => {
    const prefix = `${uniqueName('prune-race')}:`;
    const keys = keyLayout(prefix);
    const writer = new FeatureWriter(redis, keys);
    const pruner = new PairPruner(redis, keys);
    await writer.applyBehaviour(clicks([['drill', 'p1', IDLE_AT]]));
    const key = keys.queryPairs('drill');
    const field = Buffer.from(pairField('p1'));
    const judged = (await redis.hgetBuffer(key, field.toString()))!;
    // The pruner judged p1 idle from `judged`; then a new event for it lands.
    await writer.applyBehaviour(clicks([['drill', 'p1', LIVE_AT]], 1));
    const current = (await redis.hgetBuffer(key, field.toString()))!;
    expect(current).not.toEqual(judged);

    expect(await pruner.deleteIdle(key, [[field, judged]])).toBe(0);
    expect(await redis.hgetBuffer(key, field.toString())).toEqual(current);
    const fences = (await redis.hgetBuffer(key, PAIR_FENCES_FIELD))!;
    expect(await pruner.deleteIdle(key, [[Buffer.from(PAIR_FENCES_FIELD), fences]])).toBe(0);
    expect(await redis.hexists(key, PAIR_FENCES_FIELD)).toBe(1);
    // With the value it holds, the compare-and-delete deletes it (several fields in one call).
    await writer.applyBehaviour(clicks([['drill', 'p2', IDLE_AT]], 2));
    const p2 = Buffer.from(pairField('p2'));
    const held = (await redis.hgetBuffer(key, p2.toString()))!;
    expect(
      await pruner.deleteIdle(key, [
        [field, current],
        [p2, held],
      ]),
    ).toBe(2);
    expect(await fieldsOf(redis, key)).toEqual([PAIR_FENCES_FIELD]);
  });

  it('prunes the pairs hashes on every master of a real three-node Redis Cluster', async () => {
    cluster = await startRedisCluster();
    const client = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_CLUSTER_NODES: cluster.nodes.join(',') }));
    try {
      const keys = keyLayout(`${uniqueName('prune-cluster')}:`);
      const queries = Array.from({ length: 30 }, (_, i) => `query ${i}`);
      const pruner = new PairPruner(client, keys);
      await new FeatureWriter(client, keys).applyBehaviour(
        clicks(queries.flatMap((q) => [[q, 'idle', IDLE_AT] as const, [q, 'live', LIVE_AT] as const])),
      );
      // The hashes really are spread: every master holds some of them.
      const masters = (client as Cluster).nodes('master');
      const perMaster = await Promise.all(
        masters.map(
          async (node) => (await node.scan('0', 'MATCH', keys.queryPairsPattern(), 'COUNT', 1_000))[1].length,
        ),
      );
      expect(perMaster.every((n) => n > 0)).toBe(true);

      const result = await pruner.prune({ nowMs: NOW, count: 5 });

      expect(result).toEqual({ hashes: 30, fields: 60, pruned: 30, unreadable: 0 });
      for (const q of queries)
        expect(await fieldsOf(client, keys.queryPairs(q))).toEqual([PAIR_FENCES_FIELD, pairField('live')].sort());
    } finally {
      client.disconnect();
    }
  });
});
