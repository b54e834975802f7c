import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { FEATURE_COUNT, FEATURE_INDEX } from '@searchop/schemas';
import { referenceScore, type LightGbmModel } from './testing/lightgbm-text.ts';
import { TestRegistry, leaf, specModel, split } from './testing/model-files.ts';
import { startTestRanker, type TestRanker } from './testing/harness.ts';

/**
 * Version v scores v·1000 ± the retrieval score's bucket: odd versions rank by retrieval score,
 * even ones against it. A response mixing two models would show scores of two thousands, or an
 * order that is neither.
 */
function versionModel(version: number): LightGbmModel {
  const sign = version % 2 === 1 ? 1 : -1;
  let buckets = leaf(sign * 9);
  for (let t = 8; t >= 0; t--) buckets = split('retrieval_score', t + 0.5, leaf(sign * t), buckets);
  return specModel([split('retrieval_score', 1e9, leaf(version * 1000), leaf(version * 1000)), buckets]);
}

const CANDIDATES = Array.from({ length: 10 }, (_, i) => ({ product_id: `p-${i}`, retrieval_score: i }));

interface Answer {
  status: number;
  body: { model_version: number | null; degraded: boolean; results: { product_id: string; score: number }[] };
}

describe('hot swap under concurrent load', () => {
  let models: TestRegistry;
  let ranker: TestRanker;
  let base: string;
  const versions = [1, 2, 3, 4];

  beforeAll(async () => {
    models = await TestRegistry.create();
    for (const v of versions) await models.publish(v, versionModel(v));
    await models.point(1);
    ranker = await startTestRanker({
      redisUrl: inject('redisUrl'),
      keyPrefix: `${uniqueName('swap')}:`,
      registryRoot: models.root,
      pollIntervalMs: 10,
    });
    base = await ranker.listen();
  });
  afterAll(async () => {
    await ranker.close();
    await models.destroy();
  });

  it('loses no request and never mixes two models in one answer', async () => {
    const answers: Answer[] = [];
    const seen = new Set<number>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        // Shuffle so that the order in the answer comes from the scores, not the input.
        const shift = (w * 7 + i) % CANDIDATES.length;
        const candidates = [...CANDIDATES.slice(shift), ...CANDIDATES.slice(0, shift)];
        try {
          const response = await fetch(`${base}/rank`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: 'drill', candidates }),
          });
          const body = (await response.json()) as Answer['body'];
          answers.push({ status: response.status, body });
          if (body.model_version !== null) seen.add(body.model_version);
        } catch (error) {
          answers.push({ status: 0, body: { model_version: null, degraded: true, results: [] } });
          throw error;
        }
      }
    };
    const load = Promise.allSettled(Array.from({ length: 12 }, (_, w) => worker(w)));

    // Forward through every version, then a rollback, each swap while requests are in flight.
    const plan = [2, 3, 4, 1, 3];
    for (const version of plan) {
      const before = answers.length;
      seen.clear();
      await models.point(version);
      await waitFor(() => seen.has(version) && answers.length > before + 50, { what: `answers from v${version}` });
    }
    stop = true;
    const workers = await load;

    expect(workers.every((w) => w.status === 'fulfilled')).toBe(true);
    expect(answers.length).toBeGreaterThan(250);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const row = new Float64Array(FEATURE_COUNT).fill(Number.NaN);
    const retrievalAt = FEATURE_INDEX.get('retrieval_score')!;
    const byVersion = new Map<number, number>();
    for (const { body } of answers) {
      expect(body.degraded).toBe(false);
      const version = body.model_version!;
      expect(versions).toContain(version);
      byVersion.set(version, (byVersion.get(version) ?? 0) + 1);
      const model = versionModel(version);
      const expectedOrder = [...CANDIDATES]
        .sort((a, b) =>
          version % 2 === 1 ? b.retrieval_score - a.retrieval_score : a.retrieval_score - b.retrieval_score,
        )
        .map((c) => c.product_id);
      expect(body.results.map((r) => r.product_id)).toEqual(expectedOrder);
      for (const result of body.results) {
        row[retrievalAt] = CANDIDATES.find((c) => c.product_id === result.product_id)!.retrieval_score;
        expect(result.score).toBe(referenceScore(model, row));
      }
    }
    expect([...byVersion.keys()].sort()).toEqual(versions);
  });
});
