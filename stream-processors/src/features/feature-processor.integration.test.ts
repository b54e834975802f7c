import {
  createKafka,
  createLogger,
  createRedis,
  createSchemaRegistry,
  defineConfig,
  kafkaEnv,
  loadConfig,
  redisEnv,
  schemaRegistryEnv,
} from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  EventCodec,
  decodeState,
  emptyState,
  tileEntries,
  provision,
  type BehaviourEvent,
  type EntityState,
  type EventType,
} from '@searchop/schemas';
import { StorefrontClient } from '@searchop/producers';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startService, type ServiceProcess } from '../testing/child-process.ts';
import { featureTopics } from './config.ts';
import type { SourcedEvent } from './feature-writer.ts';
import { comparable, eventStream, expectedStates } from './testing/behaviour-stream.ts';

const config = loadConfig(defineConfig({ ...kafkaEnv, ...schemaRegistryEnv, ...redisEnv }), {
  KAFKA_BROKERS: inject('kafkaBrokers'),
  SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
  REDIS_URL: inject('redisUrl'),
});
const logger = createLogger('test', 'silent');
const kafka = createKafka(config, logger);
const registry = createSchemaRegistry(config);
const redis = createRedis(config);
const admin = kafka.admin();
const children: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await admin.disconnect();
  redis.disconnect();
});

const mainModule = new URL('./main.ts', import.meta.url);
const eventTypeOf: Record<BehaviourEvent['type'], EventType> = {
  search_impression: 'search_impression',
  click: 'click',
  add_to_cart: 'add_to_cart',
  purchase: 'purchase',
};

/** Provisions topics of the test's own and produces `count` behaviour events through the SDK. */
async function produceStream(count: number) {
  const suffix = `.${uniqueName('fp')}`;
  const specs = featureTopics(suffix);
  await admin.connect();
  await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
  const codec = await EventCodec.connect(registry, specs);
  const client = await StorefrontClient.create({
    kafka,
    codec,
    topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    dedupeWindowMs: 0,
  });
  const events = eventStream(count).map((e) => e.event);
  for (let i = 0; i < events.length; i += 20_000) {
    await Promise.all(events.slice(i, i + 20_000).map((e) => client.emit(eventTypeOf[e.type], e.value as never)));
  }
  await client.close();
  return { suffix, specs, codec };
}

/** The exact reference, computed independently: every record read back from the topics, in the order Kafka holds them. */
async function referenceFromTopics(
  prefix: string,
  specs: ReturnType<typeof featureTopics>,
  codec: EventCodec,
  count: number,
) {
  const consumer = kafka.consumer({ groupId: uniqueName('reference') });
  const records: SourcedEvent<BehaviourEvent>[] = [];
  const typeOf: Record<string, BehaviourEvent['type']> = {
    impressions: 'search_impression',
    clicks: 'click',
    'add-to-carts': 'add_to_cart',
    purchases: 'purchase',
  };
  await consumer.connect();
  await consumer.subscribe({ topics: specs.filter((s) => s.id in typeOf).map((s) => s.name), fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const spec = specs.find((s) => s.name === batch.topic)!;
      for (const m of batch.messages) {
        records.push({
          spec,
          partition: batch.partition,
          offset: Number(m.offset),
          event: { type: typeOf[spec.id]!, value: await codec.decode(spec as never, m.value!) } as BehaviourEvent,
        });
      }
    },
  });
  await waitFor(() => records.length === count, { timeoutMs: 120_000, what: `all ${count} records read back` });
  await consumer.disconnect();
  return expectedStates(prefix, records);
}

async function redisStates(keys: Iterable<string>): Promise<Map<string, EntityState>> {
  const list = [...keys];
  const buffers = await Promise.all(list.map((k) => redis.getBuffer(k)));
  return new Map(list.map((k, i) => [k, decodeState(buffers[i]) ?? emptyState()]));
}

/** Waits until the group has committed up to the end of every partition of the given topics. */
async function waitForNoLag(groupId: string, topicNames: string[], what: string) {
  await waitFor(
    async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: topicNames });
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const end of ends) {
          const at = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          // An empty partition has nothing to commit (its committed offset stays -1).
          if (Number(end.high) > Number(end.low) && Number(at) < Number(end.high)) return false;
        }
      }
      return true;
    },
    { timeoutMs: 600_000, intervalMs: 500, what },
  );
}

function totals(states: Map<string, EntityState>) {
  const sum = { keys: states.size, impressions: 0, clicks: 0, carts: 0, purchases: 0 };
  for (const s of states.values())
    for (const [, c] of tileEntries(s))
      for (const k of ['impressions', 'clicks', 'carts', 'purchases'] as const) sum[k] += c[k];
  return sum;
}

function processorEnv(suffix: string, prefix: string, groupId: string): Record<string, string> {
  return {
    KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    TOPIC_NAME_SUFFIX: suffix,
    FEATURES_GROUP_ID: groupId,
    // A killed member's partitions move after this: short, so the test does not wait 30 s per kill.
    FEATURES_SESSION_TIMEOUT_MS: '6000',
    FEATURES_HEARTBEAT_INTERVAL_MS: '1000',
    METRICS_PORT: '0',
  };
}

describe('feature processor, exactly once under SIGKILL', () => {
  it('leaves every counter equal to the exact count from the topic after 5 SIGKILLs and restarts', async () => {
    const N = 200_000;
    const began = Date.now();
    const { suffix, specs, codec } = await produceStream(N);
    console.log(`produced ${N} events in ${Date.now() - began} ms`);
    const prefix = `${uniqueName('fp')}:`;
    const groupId = uniqueName('features');
    const env = processorEnv(suffix, prefix, groupId);
    const kills: number[] = [];
    for (let i = 0; i < 5; i++) {
      const child = startService(mainModule, env);
      children.push(child);
      // Let it join and apply some batches, then kill it at a random moment.
      const delay = 3_000 + Math.floor(Math.random() * 4_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      expect(child.child.exitCode, child.output()).toBeNull();
      await child.kill('SIGKILL');
      kills.push(delay);
    }
    const last = startService(mainModule, env);
    children.push(last);
    await waitForNoLag(
      groupId,
      specs.map((s) => s.name),
      'the processor to catch up after the kills',
    );
    await last.kill('SIGTERM');

    const expected = await referenceFromTopics(prefix, specs, codec, N);
    const actual = await redisStates(expected.keys());
    console.log(`killed at ${kills.map((ms) => `${ms} ms`).join(', ')} after each start`);
    console.table({ 'expected (from the topic)': totals(expected), 'actual (Redis)': totals(actual) });
    expect(comparable(actual)).toEqual(comparable(expected));
    // Nothing else was written under the prefix.
    expect((await redis.keys(`${prefix}*`)).length).toBe(expected.size);
  }, 900_000);
});

describe('feature processor, horizontal scale', () => {
  it('two instances in one group produce the same Redis state as one', async () => {
    const N = Number(process.env['SCALE_N'] ?? 60_000);
    const { suffix, specs } = await produceStream(N);
    const one = `${uniqueName('one')}:`;
    const two = `${uniqueName('two')}:`;
    const soloGroup = uniqueName('solo');
    const pairGroup = uniqueName('pair');
    const solo = startService(mainModule, processorEnv(suffix, one, soloGroup));
    const first = startService(mainModule, processorEnv(suffix, two, pairGroup));
    // The second member joins while the first is working: a rebalance mid-stream.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const second = startService(mainModule, processorEnv(suffix, two, pairGroup));
    children.push(solo, first, second);
    const names = specs.map((s) => s.name);
    await waitForNoLag(soloGroup, names, 'the single instance to catch up');
    await waitForNoLag(pairGroup, names, 'the two instances to catch up');
    await Promise.all([solo.kill('SIGTERM'), first.kill('SIGTERM'), second.kill('SIGTERM')]);

    const keysOne = (await redis.keys(`${one}*`)).sort();
    const keysTwo = (await redis.keys(`${two}*`)).sort();
    expect(keysTwo.map((k) => k.slice(two.length))).toEqual(keysOne.map((k) => k.slice(one.length)));
    const statesOne = await redisStates(keysOne);
    const statesTwo = await redisStates(keysTwo);
    const strip = (states: Map<string, EntityState>, prefix: string) =>
      new Map([...states].map(([k, v]) => [k.slice(prefix.length), v]));
    const a = comparable(strip(statesTwo, two));
    const b = comparable(strip(statesOne, one));
    const differing = Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    if (differing.length > 0)
      console.log(
        'differing keys',
        differing.length,
        differing.slice(0, 3),
        JSON.stringify(a[differing[0]!]).slice(0, 1500),
        JSON.stringify(b[differing[0]!]).slice(0, 1500),
      );
    expect(a).toEqual(b);
    expect(keysOne.length).toBeGreaterThan(100);
  }, 600_000);
});
