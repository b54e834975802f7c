import type { RedisClient, createSchemaRegistry } from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  EventCodec,
  decodeState,
  provision,
  tileEntries,
  type BehaviourEvent,
  type EntityState,
  type EventType,
} from '@searchop/schemas';
import { StorefrontClient } from '@searchop/producers';
import type { Admin, Kafka } from 'kafkajs';
import { featureTopics } from '../config.ts';
import type { SourcedEvent } from '../feature-writer.ts';
import { locationName } from '@searchop/schemas/testing';
import { eventStream, expectedStates } from './behaviour-stream.ts';

/**
 * Every counter state under `prefix`, by locationName: each key's value, and each field of each
 * pairs hash (its fences field too). What two runs must agree on, whatever keys they wrote.
 */
export async function statesUnder(redis: RedisClient, prefix: string): Promise<Map<string, EntityState>> {
  const out = new Map<string, EntityState>();
  for (const key of await redis.keys(`${prefix}*`)) {
    if ((await redis.type(key)) === 'hash') {
      const fields = await redis.hgetallBuffer(key);
      for (const [field, value] of Object.entries(fields)) out.set(locationName({ key, field }), decodeState(value)!);
    } else out.set(key, decodeState(await redis.getBuffer(key))!);
  }
  return out;
}

/**
 * Test support for the feature processor's end-to-end tests (real Kafka, registry, Redis; the
 * processor in a child process): producing a stream into topics of the test's own, the exact
 * reference computed independently by reading the topics back, Redis read back, lag.
 */
export interface Harness {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registry: ReturnType<typeof createSchemaRegistry>;
  readonly registryUrl: string;
}

const eventTypeOf: Record<BehaviourEvent['type'], EventType> = {
  search_impression: 'search_impression',
  click: 'click',
  add_to_cart: 'add_to_cart',
  purchase: 'purchase',
};

/** Provisions topics of the test's own and produces `count` behaviour events through the SDK. */
export async function produceStream({ kafka, admin, registry, registryUrl }: Harness, count: number) {
  const suffix = `.${uniqueName('fp')}`;
  const specs = featureTopics(suffix);
  await admin.connect();
  await provision({ admin, registry, registryUrl, specs });
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
export async function referenceFromTopics(
  { kafka }: Harness,
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

/** Waits until the group has committed up to the end of every partition of the given topics. */
export async function waitForNoLag({ admin }: Harness, groupId: string, topicNames: string[], what: string) {
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

/** Key count and counter sums over all keys, for a side-by-side table in the test output. */
export function totals(states: Map<string, EntityState>) {
  const sum = { keys: states.size, impressions: 0, clicks: 0, carts: 0, purchases: 0 };
  for (const s of states.values())
    for (const [, c] of tileEntries(s))
      for (const k of ['impressions', 'clicks', 'carts', 'purchases'] as const) sum[k] += c[k];
  return sum;
}

/** The processor's environment for topics `suffix`, keys under `prefix`, group `groupId`. */
export function processorEnv(
  endpoints: { kafkaBrokers: string; schemaRegistryUrl: string; redisUrl: string },
  suffix: string,
  prefix: string,
  groupId: string,
): Record<string, string> {
  return {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
    REDIS_KEY_PREFIX: prefix,
    TOPIC_NAME_SUFFIX: suffix,
    FEATURES_GROUP_ID: groupId,
    // A killed member's partitions move after this: short, so the test does not wait 30 s per kill.
    FEATURES_SESSION_TIMEOUT_MS: '6000',
    FEATURES_HEARTBEAT_INTERVAL_MS: '1000',
    METRICS_PORT: '0',
  };
}
