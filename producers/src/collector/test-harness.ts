import { createKafka, createLogger, createSchemaRegistry, type SchemaRegistryEnv } from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, eventTypes, provision, type TopicSpecBase } from '@searchop/schemas';
import type { FastifyInstance } from 'fastify';
import type { Kafka, RetryOptions } from 'kafkajs';
import { Registry } from 'prom-client';
import { StorefrontClient } from '../sdk/storefront-client.ts';
import { buildCollectorServer } from './app.ts';
import type { CollectorSettings } from './config.ts';
import { kafkaReadiness } from './readiness.ts';

/**
 * For integration tests: a collector wired exactly as main.ts wires it (real StorefrontClient on a
 * real broker and registry), on topics of the test's own.
 */
export interface TestCollector {
  readonly app: FastifyInstance;
  readonly kafka: Kafka;
  readonly specs: readonly TopicSpecBase[];
  readonly codec: EventCodec;
  readonly metrics: Registry;
  close(): Promise<void>;
}

export const defaultTestSettings: CollectorSettings = {
  maxEvents: 500,
  maxBodyBytes: 1_048_576,
  ubiMaxDocuments: 10_000,
  ubiMaxBodyBytes: 4 * 1_048_576,
  ubiOrdinalBase: 0,
  apiKeys: [],
  rateLimitPerMinute: 0,
  maxEventAgeMs: 30 * 86_400_000,
  maxClockSkewMs: 5 * 60_000,
  kafkaRetryAfterMs: 5_000,
};

export async function startTestCollector(options: {
  readonly brokers: string;
  readonly registry: SchemaRegistryEnv;
  readonly settings?: Partial<CollectorSettings>;
  readonly clock?: () => number;
  /** The SDK producer's retry policy: how long an outage takes to surface. */
  readonly retry?: RetryOptions;
}): Promise<TestCollector> {
  const logger = createLogger('collector-test', 'silent');
  const kafka = createKafka(
    { KAFKA_BROKERS: [options.brokers], KAFKA_CLIENT_ID: 'collector-test', KAFKA_SSL: false },
    logger,
  );
  const registry = createSchemaRegistry(options.registry);
  const suffix = uniqueName('collector');
  // Own topic names, same subjects: the registry's schemas are shared, the records are not.
  const specs = Object.values(eventTypes).map((t) => ({
    ...t,
    name: `${t.name}.${suffix}`,
    dlq: `${t.name}.${suffix}.dlq`,
  }));
  // Provisioning waits for the new topics' leaders with retries; readiness probes must not retry.
  const provisioner = kafka.admin();
  await provisioner.connect();
  await provision({ admin: provisioner, registry, registryUrl: options.registry.SCHEMA_REGISTRY_URL, specs });
  await provisioner.disconnect();
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  const codec = await EventCodec.connect(registry, specs);
  const metrics = new Registry();
  const client = await StorefrontClient.create({
    kafka,
    codec,
    metrics,
    topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  const app = await buildCollectorServer(
    {
      sink: client,
      metrics,
      clock: options.clock ?? Date.now,
      checkReady: kafkaReadiness(admin, 1_000),
      settings: { ...defaultTestSettings, ...options.settings },
    },
    { logger, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, trustProxy: false },
  );
  await app.ready();
  return {
    app,
    kafka,
    specs,
    codec,
    metrics,
    close: async () => {
      await app.close();
      await client.close();
      await admin.disconnect();
    },
  };
}

export interface ConsumedRecord {
  readonly topicId: string;
  readonly key: string;
  readonly value: Record<string, unknown>;
}

/**
 * Everything on the collector's topics, decoded: waits until `expected` records arrived, then
 * keeps reading until the topics' end offsets are reached, so that an extra record is seen too.
 */
export async function consumeAll(collector: TestCollector, expected: number): Promise<ConsumedRecord[]> {
  const { kafka, specs, codec } = collector;
  const records: ConsumedRecord[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('collector-check') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: specs.map((s) => s.name), fromBeginning: true });
    const positions = new Map<string, bigint>();
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const spec = specs.find((s) => s.name === topic)!;
        const value = await codec.decode<Record<string, unknown>>(spec, message.value!);
        records.push({ topicId: spec.id, key: message.key!.toString(), value });
        positions.set(`${topic}:${partition}`, BigInt(message.offset) + 1n);
      },
    });
    await waitFor(() => records.length >= expected, { what: `${expected} records on the collector's topics` });
    const admin = kafka.admin();
    await admin.connect();
    const ends = (
      await Promise.all(specs.map(async (s) => ({ topic: s.name, offsets: await admin.fetchTopicOffsets(s.name) })))
    )
      .flatMap(({ topic, offsets }) => offsets.map((o) => ({ key: `${topic}:${o.partition}`, end: BigInt(o.high) })))
      .filter((o) => o.end > 0n);
    await admin.disconnect();
    await waitFor(() => ends.every((o) => (positions.get(o.key) ?? 0n) >= o.end), {
      what: 'the end of every partition',
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
