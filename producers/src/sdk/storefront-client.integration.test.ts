import { randomUUID } from 'node:crypto';
import { createKafka, isSearchOpError } from '@searchop/runtime';
import { testServices, uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, provision, topics, type EventOf, type EventType, type TopicSpecBase } from '@searchop/schemas';
import { startEphemeralKafka } from '@searchop/stack/testing';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProducerErrorCode } from '../errors.ts';
import { StorefrontClient } from './storefront-client.ts';

const { config, logger, registry, kafka } = testServices(inject);

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

async function counterValue(metrics: Registry, name: string, type?: string): Promise<number> {
  const metric = await metrics.getSingleMetric(name)!.get();
  return metric.values.filter((v) => type === undefined || v.labels['type'] === type).reduce((n, v) => n + v.value, 0);
}

/** The decoded records on `spec`'s topic, read from the beginning until `count` arrived. */
async function readTopic(kafka: Kafka, codec: EventCodec, spec: TopicSpecBase, count: number) {
  const consumer = kafka.consumer({ groupId: uniqueName('sdk-read') });
  const records: { key: string; value: Record<string, unknown> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [spec.name], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        records.push({
          key: message.key!.toString(),
          value: await codec.decode(spec, message.value!),
        });
      },
    });
    await waitFor(() => records.length >= count, { what: `${count} record(s) on ${spec.name}` });
  } finally {
    await consumer.disconnect();
  }
  return records;
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

describe('StorefrontClient.emitMany, metrics and shutdown', () => {
  it('emits a mixed list with one promise: outcomes in order, a repeated id once, every record on its topic', async () => {
    const specs = ownTopics();
    const metrics = new Registry();
    const { client, codec } = await clientFor(kafka, specs, metrics);
    const clicks = Array.from({ length: 3 }, () => ({ ...examples.click, event_id: randomUUID() }));
    const impression = { ...examples.search_impression, event_id: randomUUID() };
    const outcomes = await client.emitMany([
      { type: 'click', event: clicks[0]! },
      { type: 'search_impression', event: impression },
      { type: 'click', event: clicks[1]! },
      { type: 'click', event: clicks[0]! },
      { type: 'click', event: clicks[2]! },
    ]);
    expect(outcomes).toEqual(['sent', 'sent', 'sent', 'duplicate', 'sent']);
    expect(await client.emitMany([{ type: 'click', event: clicks[1]! }])).toEqual(['duplicate']);
    expect(await client.emitMany([])).toEqual([]);
    expect(await counterValue(metrics, 'searchop_events_sent_total', 'click')).toBe(3);
    expect(await counterValue(metrics, 'searchop_events_sent_total', 'search_impression')).toBe(1);
    expect(await counterValue(metrics, 'searchop_events_duplicate_total', 'click')).toBe(2);
    expect(await counterValue(metrics, 'searchop_events_failed_total')).toBe(0);
    await client.close();

    const clickRecords = await readTopic(
      kafka,
      codec,
      specs.find((s) => s.id === 'clicks')!,
      3,
    );
    expect(clickRecords.map((r) => r.value['event_id']).sort()).toEqual(clicks.map((c) => c.event_id).sort());
    expect(clickRecords.every((r) => r.key === session)).toBe(true);
    const impressions = await readTopic(
      kafka,
      codec,
      specs.find((s) => s.id === 'impressions')!,
      1,
    );
    expect(impressions.map((r) => r.value)).toEqual([impression]);
  });

  it('refuses a list with an invalid event as a whole, naming its index and field, and buffers none of it', async () => {
    const specs = ownTopics();
    const metrics = new Registry();
    const { client } = await clientFor(kafka, specs, metrics);
    const good = { ...examples.click, event_id: randomUUID() };
    const bad = { ...examples.click, event_id: randomUUID(), quantity: undefined, position: 'second' };
    const refusal = await client
      .emitMany([
        { type: 'click', event: good },
        { type: 'click', event: bad as unknown as EventOf<'click'> },
      ])
      .then(
        () => 'accepted',
        (e: unknown) => (isSearchOpError(e) ? `${e.code} ${e.message}` : String(e)),
      );
    expect(refusal).toMatch(/^SCH_INVALID_VALUE events\[1\]: .*position/);
    expect(client.outstanding).toBe(0);
    // Nothing of the refused list was taken, not even its valid event's id.
    expect(await client.emitMany([{ type: 'click', event: good }])).toEqual(['sent']);
    expect(await counterValue(metrics, 'searchop_events_sent_total')).toBe(1);
    await client.close();
  });

  it('applies back-pressure to emitMany: a list larger than the buffer waits for room and is delivered', async () => {
    const specs = ownTopics();
    const { codec } = await clientFor(kafka, specs);
    const small = await StorefrontClient.create({
      kafka,
      codec,
      maxBufferedEvents: 50,
      maxBatchSize: 20,
      topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    });
    let maxOutstanding = 0;
    const sampler = setInterval(() => (maxOutstanding = Math.max(maxOutstanding, small.outstanding)), 0);
    const lists = Array.from({ length: 5 }, () =>
      small.emitMany(
        Array.from({ length: 120 }, () => ({
          type: 'click' as const,
          event: { ...examples.click, event_id: randomUUID() },
        })),
      ),
    );
    const outcomes = (await Promise.all(lists)).flat();
    clearInterval(sampler);
    await small.close();
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(600);
    expect(maxOutstanding).toBeGreaterThan(0);
    expect(maxOutstanding).toBeLessThanOrEqual(50);
  });

  it('reports buffered events, and on close() sends them all before it disconnects, refusing new ones', async () => {
    const specs = ownTopics();
    const metrics = new Registry();
    await clientFor(kafka, specs).then(({ client }) => client.close());
    const codec = await EventCodec.connect(registry, specs);
    // A linger far longer than the test: only close() can make these events leave the buffer.
    const client = await StorefrontClient.create({
      kafka,
      codec,
      metrics,
      lingerMs: 3_600_000,
      topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    });
    const clicks = Array.from({ length: 3 }, () => ({ ...examples.click, event_id: randomUUID() }));
    const emitted = [
      client.emitClick(clicks[0]!),
      client.emitMany(clicks.slice(1).map((event) => ({ type: 'click' as const, event }))),
    ];
    expect(client.outstanding).toBe(3);
    expect(await counterValue(metrics, 'searchop_events_buffered')).toBe(3);
    expect(await counterValue(metrics, 'searchop_events_sent_total')).toBe(0);

    await client.close();
    expect(await Promise.all(emitted)).toEqual(['sent', ['sent', 'sent']]);
    expect(await counterValue(metrics, 'searchop_events_buffered')).toBe(0);
    expect(await counterValue(metrics, 'searchop_events_sent_total', 'click')).toBe(3);
    await expect(client.emitClick({ ...examples.click, event_id: randomUUID() })).rejects.toMatchObject({
      code: ProducerErrorCode.CLOSED,
    });
    const records = await readTopic(
      kafka,
      codec,
      specs.find((s) => s.id === 'clicks')!,
      3,
    );
    expect(records.map((r) => r.value['event_id']).sort()).toEqual(clicks.map((c) => c.event_id).sort());
  });
});

describe('StorefrontClient during a Kafka outage', () => {
  it('rejects with PRD_KAFKA_UNAVAILABLE while the broker is down and delivers again after it returns', async () => {
    const broker = await startEphemeralKafka();
    try {
      const kafka = createKafka({ ...config, KAFKA_BROKERS: [broker.brokers] }, logger);
      const specs = ownTopics();
      const metrics = new Registry();
      const { client } = await clientFor(kafka, specs, metrics);
      // Partition leaders of the topics just created on a fresh broker take a moment to be known.
      const first = await waitFor(
        () => client.emitClick({ ...examples.click, event_id: randomUUID() }).catch(() => undefined),
        { timeoutMs: 60_000, intervalMs: 500, what: 'the first delivery to the fresh broker' },
      );
      expect(first).toBe('sent');
      const failedBefore = await counterValue(metrics, 'searchop_events_failed_total', 'click');

      await broker.stop();
      const failure = await client.emitClick({ ...examples.click, event_id: randomUUID() }).then(
        () => 'delivered',
        (e: unknown) => (isSearchOpError(e) ? e.code : String(e)),
      );
      expect(failure).toBe(ProducerErrorCode.KAFKA_UNAVAILABLE);
      expect(await counterValue(metrics, 'searchop_events_failed_total', 'click')).toBe(failedBefore + 1);

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
  }, 300_000); // a broker start, stop and restart, each slow on a busy machine
});
