import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createLogger,
  createSchemaRegistry,
  defineConfig,
  isSearchOpError,
  kafkaEnv,
  loadConfig,
  schemaRegistryEnv,
} from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, provision, topics, type EventOf, type EventType, type TopicSpecBase } from '@searchop/schemas';
import { startEphemeralKafka } from '@searchop/stack/testing';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProducerErrorCode } from '../errors.ts';
import { StorefrontClient } from './storefront-client.ts';

const config = loadConfig(defineConfig({ ...kafkaEnv, ...schemaRegistryEnv }), {
  KAFKA_BROKERS: inject('kafkaBrokers'),
  SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
});
const logger = createLogger('test', 'silent');
const registry = createSchemaRegistry(config);

function ownTopics(): TopicSpecBase[] {
  const suffix = uniqueName('sdk');
  return Object.values(topics).map((t) => ({
    ...t,
    name: `${t.name}.${suffix}`,
    subject: t.subject,
    dlq: `${t.name}.${suffix}.dlq`,
  }));
}

/** Points eventTypes' topics at this test's own topic names (same subjects and schemas). */
async function clientFor(kafka: Kafka, specs: TopicSpecBase[], metrics?: Registry) {
  const admin = kafka.admin();
  await admin.connect();
  await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
  await admin.disconnect();
  const codec = await EventCodec.connect(registry, specs);
  const names = Object.fromEntries(specs.map((s) => [s.id, s.name]));
  return {
    codec,
    client: await StorefrontClient.create({ kafka, codec, topicNames: names, ...(metrics ? { metrics } : {}) }),
  };
}

const now = Date.now();
const session = 's-' + randomUUID();
const examples: { [T in EventType]: EventOf<T> } = {
  search_impression: {
    event_id: randomUUID(),
    request_id: 'req-1',
    occurred_at: now,
    query: 'Cordless Drill',
    normalized_query: 'cordless drill',
    user_id: 'u-1',
    session_id: session,
    page: 1,
    device: 'MOBILE',
    items: [
      { product_id: 'p-1', position: 1, retrieval_score: 12.5 },
      { product_id: 'p-2', position: 2, retrieval_score: null },
    ],
  },
  click: {
    event_id: randomUUID(),
    occurred_at: now + 1,
    impression_id: 'imp-1',
    request_id: 'req-1',
    query: 'Cordless Drill',
    normalized_query: 'cordless drill',
    user_id: 'u-1',
    session_id: session,
    product_id: 'p-2',
    position: 2,
  },
  add_to_cart: {
    event_id: randomUUID(),
    occurred_at: now + 2,
    impression_id: 'imp-1',
    request_id: 'req-1',
    query: 'Cordless Drill',
    normalized_query: 'cordless drill',
    user_id: 'u-1',
    session_id: session,
    product_id: 'p-2',
    position: 2,
    quantity: 2,
  },
  purchase: {
    event_id: randomUUID(),
    occurred_at: now + 3,
    impression_id: 'imp-1',
    request_id: 'req-1',
    query: 'Cordless Drill',
    normalized_query: 'cordless drill',
    user_id: 'u-1',
    session_id: session,
    product_id: 'p-2',
    position: 2,
    order_id: 'o-1',
    quantity: 2,
    unit_price_minor: 12_999,
    currency: 'EUR',
  },
  product_change: {
    event_id: randomUUID(),
    occurred_at: now,
    product_id: 'p-2',
    op: 'UPSERT',
    product: {
      title: '18V Cordless Drill',
      brand: 'Acme',
      category_path: ['Tools', 'Drills'],
      price_minor: 12_999,
      currency: 'EUR',
      rating: 4.5,
      review_count: 120,
      available: true,
      released_at: null,
      attributes: { voltage: '18' },
    },
  },
};

describe('StorefrontClient against the shared Kafka and registry', () => {
  const kafka = createKafka(config, logger);
  const specs = ownTopics();
  let client: StorefrontClient;
  let codec: EventCodec;
  const metrics = new Registry();

  beforeAll(async () => {
    ({ client, codec } = await clientFor(kafka, specs, metrics));
  });
  afterAll(() => client.close());

  it('round-trips every event type SDK → Kafka → decoded through the registry, keyed as the topic registry says', async () => {
    const outcomes = await Promise.all(
      (Object.keys(examples) as EventType[]).map((type) => client.emit(type, examples[type] as never)),
    );
    expect(outcomes).toEqual(Array(5).fill('sent'));

    const consumer = kafka.consumer({ groupId: uniqueName('sdk-check') });
    const received = new Map<string, { key: string; value: unknown }>();
    await consumer.connect();
    await consumer.subscribe({ topics: specs.map((s) => s.name), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const spec = specs.find((s) => s.name === topic)!;
        received.set(spec.id, {
          key: message.key!.toString(),
          value: await codec.decode(spec as never, message.value!),
        });
      },
    });
    await waitFor(() => received.size === 5, { what: 'one record on each topic' });
    await consumer.disconnect();
    expect(received.get('impressions')).toEqual({ key: session, value: examples.search_impression });
    expect(received.get('clicks')).toEqual({ key: session, value: examples.click });
    expect(received.get('add-to-carts')).toEqual({ key: session, value: examples.add_to_cart });
    expect(received.get('purchases')).toEqual({ key: session, value: examples.purchase });
    expect(received.get('catalog')).toEqual({ key: 'p-2', value: examples.product_change });
  });

  it('refuses an invalid event before buffering it, naming the field', async () => {
    const bad = { ...examples.click, event_id: randomUUID(), position: 'second' } as unknown as EventOf<'click'>;
    await expect(client.emitClick(bad)).rejects.toThrow(/position/);
  });

  it('drops a duplicate event id within the window and counts it', async () => {
    const click = { ...examples.click, event_id: randomUUID() };
    expect(await client.emitClick(click)).toBe('sent');
    expect(await client.emitClick(click)).toBe('duplicate');
    const duplicates = await metrics.getSingleMetric('searchop_events_duplicate_total')!.get();
    expect(duplicates.values.find((v) => v.labels['type'] === 'click')?.value).toBe(1);
  });

  it('applies back-pressure: never more than maxBufferedEvents outstanding, and all are delivered', async () => {
    const small = await StorefrontClient.create({
      kafka,
      codec,
      maxBufferedEvents: 50,
      maxBatchSize: 20,
      topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    });
    let maxOutstanding = 0;
    const sampler = setInterval(() => (maxOutstanding = Math.max(maxOutstanding, small.outstanding)), 0);
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, () => small.emitClick({ ...examples.click, event_id: randomUUID() })),
    );
    clearInterval(sampler);
    await small.close();
    // 500 emit() calls were made at once; the client itself never held more than 50 events.
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(500);
    expect(maxOutstanding).toBeGreaterThan(0);
    expect(maxOutstanding).toBeLessThanOrEqual(50);
  });
});

describe('StorefrontClient during a Kafka outage', () => {
  it('rejects with PRD_KAFKA_UNAVAILABLE while the broker is down and delivers again after it returns', async () => {
    const broker = await startEphemeralKafka();
    try {
      const kafka = createKafka({ ...config, KAFKA_BROKERS: [broker.brokers] }, logger);
      const specs = ownTopics();
      const { client } = await clientFor(kafka, specs);
      expect(await client.emitClick({ ...examples.click, event_id: randomUUID() })).toBe('sent');

      await broker.stop();
      const failure = await client.emitClick({ ...examples.click, event_id: randomUUID() }).then(
        () => 'delivered',
        (e: unknown) => (isSearchOpError(e) ? e.code : String(e)),
      );
      expect(failure).toBe(ProducerErrorCode.KAFKA_UNAVAILABLE);

      await broker.start();
      const again = await waitFor(
        () => client.emitClick({ ...examples.click, event_id: randomUUID() }).catch(() => undefined),
        { timeoutMs: 60_000, intervalMs: 500, what: 'delivery after the broker restarted' },
      );
      expect(again).toBe('sent');
      await client.close();
    } finally {
      await broker.destroy();
    }
  });
});
