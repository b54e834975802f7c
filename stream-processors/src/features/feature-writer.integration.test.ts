import { createRedis, defineConfig, loadConfig, redisEnv, type RedisClient } from '@searchop/runtime';
import { startRedisCluster, type EphemeralRedisCluster } from '@searchop/stack/testing';
import { uniqueName } from '@searchop/runtime/testing';
import { keyLayout, topics, type BehaviourEvent, type EntityState, type ProductChange } from '@searchop/schemas';
import { catalogProduct, locationOf } from '@searchop/schemas/testing';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FeatureWriter, type SourcedEvent } from './feature-writer.ts';
import { T0, comparable, eventStream, expectedStates, readStates } from './testing/behaviour-stream.ts';

const config = loadConfig(defineConfig(redisEnv), { REDIS_URL: inject('redisUrl') });
const redis = createRedis(config);
afterAll(() => redis.quit());
let cluster: EphemeralRedisCluster | undefined;
afterAll(() => cluster?.destroy());

/** The states at the expected locations (see locationName), every one of which must exist. */
async function actualStates(names: Iterable<string>, client: RedisClient = redis): Promise<Map<string, EntityState>> {
  return readStates(client, names);
}

/** Splits events into per-partition batches of pseudo-random sizes, as a consumer would receive them. */
function batches<E>(events: readonly SourcedEvent<E>[], seed: number): SourcedEvent<E>[][] {
  const out: SourcedEvent<E>[][] = [];
  for (const partition of [0, 1]) {
    const own = events.filter((e) => e.partition === partition);
    let i = 0;
    while (i < own.length) {
      const size = 1 + ((i * 31 + seed) % 97);
      out.push(own.slice(i, i + size));
      i += size;
    }
  }
  return out;
}

describe('FeatureWriter (compare-and-set on real Redis) writes exactly the TypeScript reference state', () => {
  it('applies a stream exactly once, including replays with other batch boundaries', async () => {
    const prefix = `${uniqueName('fw')}:`;
    const writer = new FeatureWriter(redis, keyLayout(prefix));
    const events = eventStream(4_000);
    const expected = expectedStates(prefix, events);

    let late = 0;
    for (const batch of batches(events.slice(0, 3_000), 1)) late += (await writer.applyBehaviour(batch)).late;
    // A crash: everything from offset 500 of each partition is delivered again, in other batches,
    // together with the rest of the stream, to a restarted writer (nothing cached: it reads Redis).
    const restarted = new FeatureWriter(redis, keyLayout(prefix));
    const replay = events.filter((e) => e.offset >= 500);
    let replayed = 0;
    for (const batch of batches(replay, 7)) {
      const result = await restarted.applyBehaviour(batch);
      replayed += result.replayed;
      late += result.late;
    }
    expect(replayed).toBeGreaterThan(0);
    expect(late).toBeGreaterThan(0);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));

    // A full replay changes nothing, through the first writer's cache (stale: the restarted one wrote since).
    for (const batch of batches(events, 3)) expect((await writer.applyBehaviour(batch)).applied).toBe(0);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));
    const ttl = await redis.ttl(keyLayout(prefix).globalCounters());
    expect(ttl).toBeGreaterThan(30 * 86_400);
  });

  it('two writers sharing keys (two instances, partitions split between them, interleaved) give the exact state', async () => {
    const prefix = `${uniqueName('fw2')}:`;
    const events = eventStream(3_000);
    const expected = expectedStates(prefix, events);
    // Each writer has the batches of one partition; they run concurrently, and every impression and
    // click of either moves the global counters and the same 40 products.
    const [first, second] = [0, 1].map(() => new FeatureWriter(redis, keyLayout(prefix)));
    const all = batches(events, 13);
    const ofPartition = (p: number) => all.filter((batch) => batch[0]!.partition === p);
    const run = async (writer: FeatureWriter, own: SourcedEvent<BehaviourEvent>[][]) => {
      let contended = 0;
      for (const batch of own) contended += (await writer.applyBehaviour(batch)).contended;
      return contended;
    };
    const [byFirst, bySecond] = await Promise.all([run(first!, ofPartition(0)), run(second!, ofPartition(1))]);
    expect(byFirst + bySecond).toBeGreaterThan(0);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));
    // A writer whose cached states are stale (the other wrote since) recomputes and stays exact.
    const replay = batches(events.slice(2_000), 17);
    for (const batch of replay) expect((await first!.applyBehaviour(batch)).applied).toBe(0);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));
  });

  it('leaves a key changed under it as the other client left it (deleted, or rewritten), then recomputes it', async () => {
    const prefix = `${uniqueName('fwr')}:`;
    const keys = keyLayout(prefix);
    const events = eventStream(200);
    const [early, late] = [events.filter((e) => e.offset < 50), events.filter((e) => e.offset >= 50)];
    const writer = new FeatureWriter(redis, keys);
    await writer.applyBehaviour(early);
    // While the writer holds their states: another writer applies the next event of partition 0 (its
    // keys now hold other values), and a product key the writer wrote expires (here: is deleted).
    const next = late.find((e) => e.partition === 0 && e.offset === 50)!;
    await new FeatureWriter(redis, keys).applyBehaviour([next]);
    const rewritten = expectedStates(prefix, [next]);
    const ofLate = expectedStates(prefix, late);
    const deleted = [...expectedStates(prefix, early).keys()].find(
      (key) => key.includes('{p:') && !rewritten.has(key) && ofLate.has(key),
    )!;
    await redis.del(deleted);
    const result = await writer.applyBehaviour(late);
    // One compare failed per key the other writer changed (a pairs hash counts once), plus the deleted one.
    const rewrittenKeys = new Set([...rewritten.keys()].map((name) => locationOf(name).key));
    expect(result.contended).toBeGreaterThanOrEqual(rewrittenKeys.size + 1);
    // Every key holds exactly the events that reached it through a current value: the deleted one
    // only the later events, every other one all of them, the other writer's event once.
    const expected = expectedStates(prefix, events);
    expected.set(deleted, ofLate.get(deleted)!);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));
    for (const name of expected.keys()) expect(await redis.ttl(locationOf(name).key)).toBeGreaterThan(30 * 86_400);
  });

  it('reads again a pair it holds when another writer changed the pairs hash since, even if that pair was not in the failed write', async () => {
    const prefix = `${uniqueName('fwg')}:`;
    const keys = keyLayout(prefix);
    const base = (i: number) => ({
      event_id: `e${i}`,
      occurred_at: T0 + i * 1_000,
      request_id: null,
      user_id: null,
      session_id: 's',
    });
    const click = (i: number, productId: string): BehaviourEvent => ({
      type: 'click',
      value: {
        ...base(i),
        impression_id: null,
        query: 'drill',
        normalized_query: 'drill',
        product_id: productId,
        position: 1,
      },
    });
    const at = (partition: number, offset: number, event: BehaviourEvent): SourcedEvent<BehaviourEvent> => ({
      spec: topics.clicks,
      partition,
      offset,
      event,
    });
    const events = [
      at(0, 0, click(0, 'p1')),
      at(0, 1, click(1, 'p2')),
      at(1, 0, click(2, 'p1')),
      at(0, 2, click(3, 'p2')),
      at(0, 3, click(4, 'p1')),
    ];
    const [a, b] = [new FeatureWriter(redis, keys), new FeatureWriter(redis, keys)];
    await a.applyBehaviour(events.slice(0, 2)); // a holds both pairs and the hash's fences
    await b.applyBehaviour([events[2]!]); // b moves p1 and the fences under a
    expect((await a.applyBehaviour([events[3]!])).contended).toBeGreaterThan(0); // only p2: a re-reads the hash
    await a.applyBehaviour([events[4]!]); // p1 again: a's copy of it predates b's click
    const expected = expectedStates(prefix, events);
    expect(comparable(await actualStates(expected.keys()))).toEqual(comparable(expected));
  });

  it('refuses a key that holds something other than an entity state, naming it', async () => {
    const prefix = `${uniqueName('fwx')}:`;
    const keys = keyLayout(prefix);
    await redis.set(keys.globalCounters(), 'not a state', 'EX', 60);
    const writer = new FeatureWriter(redis, keys);
    const error: unknown = await writer.applyBehaviour(eventStream(10)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STP_STATE_UNREADABLE' });
    expect((error as Error).message).toContain(keys.globalCounters());
  });

  it('keeps catalogue entries and BM25 statistics exact under replays', async () => {
    const prefix = `${uniqueName('cat')}:`;
    const keys = keyLayout(prefix);
    const writer = new FeatureWriter(redis, keys);
    const change = (offset: number, id: string, title: string | null): SourcedEvent<ProductChange> => ({
      spec: topics.catalog,
      partition: 0,
      offset,
      event: {
        event_id: `c${offset}`,
        occurred_at: T0,
        product_id: id,
        op: title === null ? 'DELETE' : 'UPSERT',
        product:
          title === null
            ? null
            : {
                title,
                brand: null,
                category_path: [],
                price_minor: 1999,
                currency: 'EUR',
                rating: 4,
                review_count: 3,
                available: true,
                released_at: null,
                attributes: {},
              },
      },
    });
    const records = [
      change(0, 'a', 'Cordless Drill'),
      change(1, 'b', 'Drill Bits Set'),
      change(2, 'a', 'Cordless Hammer Drill'),
      change(3, 'b', null),
      change(4, 'c', 'Saw'),
    ];
    await writer.applyCatalog(records.slice(0, 3));
    await writer.applyCatalog(records); // replay of 0–2 plus 3–4
    expect(await redis.hgetall(keys.textDocumentFrequency())).toEqual({
      cordless: '1',
      hammer: '1',
      drill: '1',
      saw: '1',
    });
    expect(await redis.hgetall(keys.textStats())).toEqual({ documents: '2', total_length: '4' });
    expect(JSON.parse((await redis.get(keys.productCatalog('a')))!)).toMatchObject({
      t: ['cordless', 'hammer', 'drill'],
      p: 1999,
    });
    expect(await redis.exists(keys.productCatalog('b'))).toBe(0);
  });

  it('works the same on a real three-node Redis Cluster (keys spread over slots, one script call per slot group)', async () => {
    cluster = await startRedisCluster();
    const client = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_CLUSTER_NODES: cluster.nodes.join(',') }));
    try {
      const prefix = `${uniqueName('fwc')}:`;
      const writer = new FeatureWriter(client, keyLayout(prefix));
      const events = eventStream(1_500);
      for (const batch of batches(events, 5)) await writer.applyBehaviour(batch);
      for (const batch of batches(
        events.filter((e) => e.offset >= 300),
        11,
      ))
        await writer.applyBehaviour(batch);
      const expected = expectedStates(prefix, events);
      expect(comparable(await actualStates(expected.keys(), client))).toEqual(comparable(expected));
      // The keys really are spread: every master holds some of them.
      const nodes = (client as Cluster).nodes('master');
      const perNode = await Promise.all(nodes.map((n) => n.dbsize()));
      expect(perNode.every((count) => count > 0)).toBe(true);
      await writer.applyCatalog([
        {
          spec: topics.catalog,
          partition: 0,
          offset: 0,
          event: {
            event_id: 'c0',
            occurred_at: T0,
            product_id: 'a',
            op: 'UPSERT',
            product: catalogProduct('Cordless Drill'),
          },
        },
      ]);
      expect(await client.hgetall(keyLayout(prefix).textStats())).toEqual({ documents: '1', total_length: '2' });
    } finally {
      client.disconnect();
    }
  });
});
