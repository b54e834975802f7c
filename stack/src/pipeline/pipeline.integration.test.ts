import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadStackSettings } from '../settings.ts';
import { runPipeline } from './run-pipeline.ts';
import { countKeys } from './services.ts';
import { EVENT_TYPES } from './summary.ts';

/**
 * The main job end to end, shortened: the same code path as `npm start` (run-pipeline.ts) with a
 * smaller world, a shorter history and a shorter live phase, on the test's services, with its own
 * topics, consumer groups, Redis key prefix, registry and free ports; everything it wrote to the
 * shared services is removed at the end.
 */
describe('npm start pipeline, shortened', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'searchop-pipeline-test-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('runs the closed loop: events flow, features land in Redis, a model beats the baselines, /rank serves, the retrain uses the feature log', async () => {
    const services = {
      kafkaBrokers: inject('kafkaBrokers'),
      schemaRegistryUrl: inject('schemaRegistryUrl'),
      redisUrl: inject('redisUrl'),
    };
    const printed: string[] = [];
    const result = await runPipeline(loadStackSettings(), {
      historyEvents: 10_000,
      liveSeconds: 60,
      liveRate: 60,
      world: 'generated',
      products: 500,
      queries: 150,
      shoppers: 300,
      seed: 7,
      keepRunning: false,
      cleanup: true,
      services,
      workDir,
      ports: { collector: 0, ranker: 0, features: 0, compactor: 0 },
      print: (line) => {
        printed.push(line);
        console.log(line);
      },
    });

    // Events of every type flowed through the processors (the ranker's feature log included).
    for (const type of EVENT_TYPES) expect(result.events[type], type).toBeGreaterThan(0);
    expect(result.consumerLag).toBe(0);
    // Online features were in Redis under the run's prefix while it ran; cleanup removed them.
    expect(result.featureKeys).toBeGreaterThan(0);
    expect(await countKeys(services.redisUrl, result.redisKeyPrefix)).toBe(0);

    // A promoted model in production whose NDCG@10 against the world's true relevance beats the
    // order the shoppers saw and the popularity baseline on the same validation lists.
    expect(result.production).toBeDefined();
    const production = result.models.find((m) => m.version === result.production)!;
    expect(production.promoted).toBe(true);
    const truth = (ranking: string) => production.metrics[ranking]?.truth_ndcg_at_10;
    expect(truth('new')).toBeGreaterThan(truth('logged')!);
    expect(truth('new')).toBeGreaterThan(truth('popularity')!);

    // The ranker served the closed loop, with its features from Redis (not only degraded answers:
    // how many degrade depends on the machine's load, which a test does not assert on).
    expect(result.rank.requests).toBeGreaterThan(0);
    expect(result.rank.requests - result.rank.degraded).toBeGreaterThan(0);

    // Two training runs; the second took served lists from the ranker's feature log.
    expect(result.models.map((m) => m.version)).toEqual([1, 2]);
    expect(result.models[0]!.lists.log).toBe(0);
    expect(result.models[1]!.lists.log).toBeGreaterThan(0);
    expect(result.models[1]!.examples.log).toBeGreaterThan(0);

    // The summary, printed, with its sections in order; the plots as PNG files.
    const output = printed.join('\n');
    const sections = [
      'Events processed',
      '/rank (closed loop)',
      'Models (validation period',
      'Training data',
      'Where to look next',
    ];
    const at = sections.map((s) => output.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(result.links.plots.map((p) => p.split('/').at(-1))).toEqual(['throughput.png', 'rank-latency.png']);
    for (const plot of result.links.plots)
      expect(readFileSync(plot).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  }, 1_200_000);
});
