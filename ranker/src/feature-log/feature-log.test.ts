import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@searchop/runtime';
import { waitFor } from '@searchop/runtime/testing';
import { FEATURE_COUNT, type RankingLog } from '@searchop/schemas';
import { createRankerMetrics } from '../metrics.ts';
import { FeatureLog, type RankingLogSink } from './feature-log.ts';
import type { ServedRanking } from './served-ranking.ts';

const logger = createLogger('test', 'silent');

/** A sink that holds every send until released: Kafka under back-pressure, without Kafka. */
class GatedSink implements RankingLogSink {
  readonly received: RankingLog[] = [];
  #open: Promise<void>;
  #release: () => void = () => undefined;
  failNext = false;

  constructor() {
    this.#open = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#release();
  }

  async send(records: readonly RankingLog[]) {
    await this.#open;
    if (this.failNext) {
      this.failNext = false;
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
  it('never blocks: beyond its capacity rankings are dropped and counted, the rest are sent in order', async () => {
    const registry = new Registry();
    const sink = new GatedSink();
    const log = new FeatureLog(sink, { capacityBytes: 6_000, batchSize: 2 }, createRankerMetrics(registry), logger);
    const accepted = Array.from({ length: 12 }, (_, i) => log.offer(served(`r${i}`)));
    // The drain holds the first batch in flight; the buffer takes up to its capacity.
    expect(accepted.filter(Boolean).length).toBeLessThan(12);
    const dropped = await counter(registry, 'feature_log_dropped_total', { reason: 'buffer_full' });
    expect(dropped).toBe(accepted.filter((a) => !a).length);
    sink.release();
    await waitFor(() => sink.received.length === accepted.filter(Boolean).length, { what: 'the buffered rankings' });
    const ids = sink.received.map((r) => r.request_id);
    expect(ids).toEqual(accepted.flatMap((a, i) => (a ? [`r${i}`] : [])));
    expect(await counter(registry, 'feature_log_sent_total')).toBe(ids.length);
    await log.close();
  });

  it('counts a failed batch as dropped and keeps logging afterwards', async () => {
    const registry = new Registry();
    const sink = new GatedSink();
    sink.failNext = true;
    sink.release();
    const log = new FeatureLog(
      sink,
      { capacityBytes: 1_000_000, batchSize: 10, retryDelayMs: 1 },
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
    expect(log.offer(served('after-close'))).toBe(false);
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
