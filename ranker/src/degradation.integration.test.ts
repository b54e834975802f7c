import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, defineConfig, loadConfig, redisEnv, type RedisClient } from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { startEphemeralRedis, type EphemeralRedis } from '@searchop/stack/testing';
import { keyLayout } from '@searchop/schemas';
import { FeatureFixture, clickEvent, product } from './testing/feature-fixture.ts';
import { TestRegistry, leaf, specModel, split } from './testing/model-files.ts';
import { startTestRanker, type TestRanker } from './testing/harness.ts';

const NOW = Date.UTC(2026, 10, 2, 12);
const PREFIX = 'deg:';
/** Product clicks in 24 h rank first; without features the retrieval score decides. */
const MODEL = specModel([
  split('product_clicks_24h', 0.5, leaf(0), leaf(100)),
  split('retrieval_score', 5, leaf(0), leaf(1)),
]);
const CANDIDATES = [
  { product_id: 'p-popular', retrieval_score: 1 },
  { product_id: 'p-retrieved', retrieval_score: 9 },
  { product_id: 'p-other', retrieval_score: 2 },
];

async function writeFeatures(redis: RedisClient): Promise<void> {
  const fixture = new FeatureFixture(keyLayout(PREFIX)).product('p-popular', product('Cordless drill'));
  for (let i = 0; i < 5; i++) fixture.behaviour(clickEvent('p-popular', NOW - 60_000 * (i + 1), null));
  await fixture.write(redis);
}

interface Answer {
  status: number;
  degraded: boolean;
  modelVersion: number | null;
  first: string | undefined;
}

describe('degradation when Redis stops, stalls and comes back', () => {
  let server: EphemeralRedis;
  let writer: RedisClient;
  let models: TestRegistry;
  let ranker: TestRanker;
  let base: string;

  beforeAll(async () => {
    server = await startEphemeralRedis({ persistence: 'none' });
    writer = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: server.url }));
    writer.on('error', () => undefined);
    await writeFeatures(writer);
    models = await TestRegistry.create();
    await models.publish(1, MODEL);
    await models.point(1);
    ranker = await startTestRanker({
      redisUrl: server.url,
      keyPrefix: PREFIX,
      registryRoot: models.root,
      clock: () => NOW,
      featureTimeoutMs: 500,
      breakerHalfOpenMs: 300,
    });
    base = await ranker.listen();
  });
  afterAll(async () => {
    await ranker.close();
    writer.disconnect();
    await models.destroy();
    await server.destroy();
  });

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  }

  it('answers every request with 200 while Redis is down or frozen, degraded on defaults, and recovers', async () => {
    // Warm-up: the first lookup also waits for the connection.
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, { what: 'the ranker to be ready' });
    const answers: Answer[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const response = await fetch(`${base}/rank`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: uniqueName('drill'), candidates: CANDIDATES }),
        });
        const body = (await response.json()) as {
          degraded: boolean;
          model_version: number | null;
          results: { product_id: string }[];
        };
        answers.push({
          status: response.status,
          degraded: body.degraded,
          modelVersion: body.model_version,
          first: body.results[0]?.product_id,
        });
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    const since = (from: number) => answers.slice(from);
    try {
      await waitFor(() => answers.length > 30, { what: 'load to start' });
      expect(answers.filter((a) => a.degraded || a.first !== 'p-popular')).toEqual([]);

      // Redis stopped mid-load: refused connections, then an open circuit.
      const stoppedAt = answers.length;
      await server.stop();
      await waitFor(async () => (await metric('feature_store_circuit_open')) === 1, { what: 'the circuit to open' });
      await waitFor(() => since(stoppedAt).filter((a) => a.degraded).length > 100, { what: 'degraded answers' });
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, model: true, redis: false });

      // Back: the next half-open probe closes the circuit; features are rewritten (memory-only server).
      await server.start();
      await writeFeatures(writer);
      const restartedAt = answers.length;
      await waitFor(() => since(restartedAt).some((a) => !a.degraded && a.first === 'p-popular'), {
        what: 'full answers after Redis returned',
      });
      expect(await metric('feature_store_circuit_open')).toBe(0);

      // Redis frozen (a stalled server): lookups time out instead of hanging requests.
      server.freeze();
      const frozenAt = answers.length;
      await waitFor(() => since(frozenAt).filter((a) => a.degraded).length > 50, {
        what: 'degraded answers while frozen',
      });
      server.thaw();
      const thawedAt = answers.length;
      await waitFor(() => since(thawedAt).some((a) => !a.degraded && a.first === 'p-popular'), {
        what: 'full answers after the thaw',
      });
    } finally {
      server.thaw();
      stop = true;
      await load;
    }

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Degraded answers were scored by the model on default features: the retrieval score decides.
    const degraded = answers.filter((a) => a.degraded);
    expect(degraded.length).toBeGreaterThan(150);
    expect(degraded.every((a) => a.modelVersion === 1 && a.first === 'p-retrieved')).toBe(true);
    expect(await metric('rank_degraded_total{reason="circuit_open"}')).toBeGreaterThan(0);
    expect(await metric('rank_degraded_total{reason="feature_store_timeout"}')).toBeGreaterThan(0);
    expect(await metric('rank_requests_total{status="200",degraded="true"}')).toBe(degraded.length);
  });
});
