import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@searchop/runtime';
import { waitFor } from '@searchop/runtime/testing';
import { FEATURE_COUNT } from '@searchop/schemas';
import { createRankerMetrics } from '../metrics.ts';
import { FeatureLog, type RankingLogSink } from './feature-log.ts';
import type { RankingLogRecord, ServedRanking } from './served-ranking.ts';

const logger = createLogger('test', 'silent');

/** A sink that holds every send until released: Kafka under back-pressure, without Kafka. */
class GatedSink implements RankingLogSink {
  readonly received: RankingLogRecord[] = [];
  #open: Promise<void>;
  #release: () => void = () => undefined;
  /** Sends to fail (after the gate opens) before the sink works again. */
  failures = 0;

  constructor() {
    this.#open = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#release();
  }

  async send(records: readonly RankingLogRecord[]) {
    await this.#open;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('broker unreachable');
    }
    this.received.push(...records);
    return { refused: 0 };
  }

  async close() {}
}

const served = (requestId: string): ServedRanking => ({
  requestId,
  occurredAt: 1,
  query: 'q',
  normalizedQuery: 'q',
  userId: undefined,
  sessionId: undefined,
  modelVersion: 1,
  degradedReason: undefined,
  ids: ['a'],
  features: new Float64Array(FEATURE_COUNT),
  scores: Float64Array.of(1),
  retrievalScores: Float64Array.of(Number.NaN),
  served: Uint32Array.of(0),
});

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('FeatureLog', () => {
  it('never blocks: beyond its capacity the oldest rankings are dropped and counted, the newest sent in order', async () => {
    const registry = new Registry();
    const sink = new GatedSink();
    // Each ranking of one candidate weighs 1,104 bytes: five fit.
    const log = new FeatureLog(sink, { capacityBytes: 6_000, batchSize: 2 }, createRankerMetrics(registry), logger);
    const accepted = Array.from({ length: 12 }, (_, i) => log.offer(served(`r${i}`)));
    expect(accepted.every(Boolean)).toBe(true);
    expect(log.buffered).toBe(5);
    expect(await counter(registry, 'feature_log_dropped_total', { reason: 'buffer_full' })).toBe(7);
    sink.release();
    await waitFor(() => sink.received.length === 5, { what: 'the buffered rankings' });
    expect(sink.received.map((r) => r.request_id)).toEqual(['r7', 'r8', 'r9', 'r10', 'r11']);
    expect(await counter(registry, 'feature_log_sent_total')).toBe(5);
    await log.close();
  });

  it('sends a failed batch again, ahead of later rankings, so logging resumes by itself', async () => {
    const registry = new Registry();
    const sink = new GatedSink();
    sink.failures = 3;
    sink.release();
    const log = new FeatureLog(
      sink,
      { capacityBytes: 1_000_000, batchSize: 10, retryDelayMs: 1 },
      createRankerMetrics(registry),
      logger,
    );
    log.offer(served('during-outage'));
    await waitFor(() => sink.failures === 0, { what: 'the failed attempts' });
    log.offer(served('after-outage'));
    await waitFor(() => sink.received.length === 2, { what: 'both rankings' });
    expect(sink.received.map((r) => r.request_id)).toEqual(['during-outage', 'after-outage']);
    expect(await counter(registry, 'feature_log_dropped_total')).toBe(0);
    await log.close();
    expect(log.offer(served('after-close'))).toBe(false);
  });

  it('drops a batch the sink keeps refusing after maxAttempts, and logs the next', async () => {
    const registry = new Registry();
    const sink = new GatedSink();
    sink.failures = 2;
    sink.release();
    const log = new FeatureLog(
      sink,
      { capacityBytes: 1_000_000, batchSize: 10, retryDelayMs: 1, maxAttempts: 2 },
      createRankerMetrics(registry),
      logger,
    );
    log.offer(served('lost'));
    await waitFor(async () => (await counter(registry, 'feature_log_dropped_total', { reason: 'send_failed' })) === 1, {
      what: 'the failed batch to be counted',
    });
    log.offer(served('kept'));
    await waitFor(() => sink.received.length === 1, { what: 'the next ranking' });
    expect(sink.received[0]!.request_id).toBe('kept');
    await log.close();
  });

  it('stops waiting for Kafka at shutdown after its deadline and counts what it leaves behind', async () => {
    const registry = new Registry();
    const stuck = new GatedSink();
    const log = new FeatureLog(
      stuck,
      { capacityBytes: 1_000_000, batchSize: 1, closeTimeoutMs: 50 },
      createRankerMetrics(registry),
      logger,
    );
    for (let i = 0; i < 4; i++) log.offer(served(`r${i}`));
    await waitFor(() => log.buffered === 3, { what: 'the first ranking to be in flight' });
    await log.close();
    expect(await counter(registry, 'feature_log_dropped_total', { reason: 'closed' })).toBe(3);
    expect(log.buffered).toBe(0);
  });
});
