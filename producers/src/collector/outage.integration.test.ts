import { randomUUID } from 'node:crypto';
import { waitFor } from '@searchop/runtime/testing';
import { startEphemeralKafka, type EphemeralKafka } from '@searchop/stack/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventsAnswer } from './routes/schemas.ts';
import { consumeAll, startTestCollector, type TestCollector } from './test-harness.ts';

const click = () => ({
  type: 'click',
  event_id: randomUUID(),
  occurred_at: Date.now(),
  session_id: 's-outage',
  product_id: 'p-1',
});

describe('the collector during a Kafka outage', () => {
  let broker: EphemeralKafka;
  let collector: TestCollector;

  beforeAll(async () => {
    broker = await startEphemeralKafka();
    collector = await startTestCollector({
      brokers: broker.brokers,
      registry: { SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl') },
      // About a second of producer retries, so that the outage surfaces quickly.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
      settings: { kafkaRetryAfterMs: 2_000 },
    });
  });
  afterAll(async () => {
    await collector?.close().catch(() => undefined);
    await broker?.destroy();
  });

  const post = async (events: unknown[]) => {
    const response = await collector.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ events }),
    });
    return { status: response.statusCode, headers: response.headers, body: response.json<EventsAnswer>() };
  };

  it('answers 503 with Retry-After and per-event statuses, never a silent drop, and recovers', async () => {
    const before = click();
    expect((await post([before])).status).toBe(200);

    await broker.stop();
    const unwritten = [click(), click()];
    const down = await post([...unwritten, { ...click(), position: 0 }]);
    expect(down.status).toBe(503);
    expect(Number(down.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(down.body).toMatchObject({ accepted: 0, failed: 2, rejected: 1, error: { code: 'PRD_KAFKA_UNAVAILABLE' } });
    expect(down.body.results.map((r) => r.status)).toEqual(['failed', 'failed', 'rejected']);
    expect(JSON.stringify(down.body)).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace

    // Within the retry-after window the answer comes at once, without queueing behind the broker.
    const again = await post([click()]);
    expect(again.status).toBe(503);
    expect((await collector.app.inject({ url: '/ready' })).statusCode).toBe(503);

    await broker.start();
    await waitFor(async () => (await post([click()])).status === 200 || undefined, {
      timeoutMs: 90_000,
      intervalMs: 1_000,
      what: 'the collector to accept events after the broker restarted',
    });
    // The events that failed are sent again with the same ids: written now, not duplicates.
    const resent = await post(unwritten);
    expect(resent.body.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect((await collector.app.inject({ url: '/ready' })).statusCode).toBe(200);

    const records = await consumeAll(collector, 3);
    const ids = records.map((r) => r.value['event_id']);
    for (const id of [before.event_id, ...unwritten.map((e) => e.event_id)]) {
      expect(ids.filter((x) => x === id)).toHaveLength(1);
    }
  });
});
