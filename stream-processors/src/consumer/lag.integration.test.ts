import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, provision, type TopicSpec, type TopicSpecBase } from '@searchop/schemas';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownTopics, sampleEvent, testServices } from '../compactor/test-support.ts';
import { DeadLetterPublisher } from './dead-letter.ts';
import { runConsumer, type ConsumerRunner } from './run-consumer.ts';

const services = testServices();
const { config, kafka, registry, logger } = services;

/** Sum of the lag gauge over the partitions of `topic`, as a scrape would read it. */
async function lagOf(metrics: Registry, topic: string): Promise<number> {
  const gauge = metrics.getSingleMetric('searchop_consumergroup_lag');
  if (!gauge) throw new Error('searchop_consumergroup_lag is not registered');
  const { values } = await gauge.get();
  return values.filter((v) => v.labels['topic'] === topic).reduce((sum, v) => sum + v.value, 0);
}

describe('the consumer-group lag gauge', () => {
  const clicks = ownTopics('lag').specs.find((s) => s.id === 'clicks') as TopicSpecBase;
  const metrics = new Registry();
  let admin: Admin;
  let producer: Producer;
  let deadLetters: DeadLetterPublisher;
  let runner: ConsumerRunner;
  let release: () => void = () => undefined;
  const handled: number[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs: [clicks] });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    deadLetters = await DeadLetterPublisher.create(kafka);
  });

  afterAll(async () => {
    release();
    await runner?.stop();
    await Promise.allSettled([deadLetters?.close(), producer?.disconnect(), admin?.disconnect()]);
  });

  it('counts the whole backlog of a group that never committed, and falls to zero once it has', async () => {
    const codec = await EventCodec.connect(registry, [clicks]);
    const session = uniqueName('s');
    const now = Date.now();
    const messages = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => ({
        key: session,
        value: await codec.encode(clicks as TopicSpec<unknown>, sampleEvent('clicks', i, now + i, session)),
      })),
    );
    await producer.send({ topic: clicks.name, messages });

    // A handler that cannot finish: the group holds its records and never commits an offset.
    const gate = new Promise<void>((resolve) => (release = resolve));
    runner = await runConsumer({
      kafka,
      codec,
      logger,
      metrics,
      groupId: uniqueName('lag-group'),
      specs: [clicks],
      deadLetters,
      handle: async (events) => {
        await gate;
        handled.push(events.length);
      },
      batch: { maxRecords: 1_000, maxWaitMs: 100 },
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      lagRefreshMs: 200,
    });
    await runner.joined;

    await waitFor(async () => (await lagOf(metrics, clicks.name)) === 30, {
      timeoutMs: 30_000,
      what: 'a lag of 30 before the first commit',
    });

    release();
    await waitFor(async () => (await lagOf(metrics, clicks.name)) === 0, {
      timeoutMs: 30_000,
      what: 'no lag once the records were handled and committed',
    });
    expect(handled.reduce((a, b) => a + b, 0)).toBe(30);
  });
});
