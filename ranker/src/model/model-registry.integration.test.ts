import { writeFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, isSearchOpError } from '@searchop/runtime';
import { waitFor } from '@searchop/runtime/testing';
import { FEATURE_DEFAULTS, FEATURE_NAMES } from '@searchop/schemas';
import { RankerErrorCode } from '../errors.ts';
import { createRankerMetrics } from '../metrics.ts';
import { TestRegistry, leaf, specModel, split } from '../testing/model-files.ts';
import { loadRankingModel } from './load-model.ts';
import { ModelRegistry } from './model-registry.ts';

const logger = createLogger('test', 'silent');
const good = (bonus: number) =>
  specModel([split('text_bm25', 1.5, leaf(0), leaf(1)), split('price', 50, leaf(bonus), leaf(0))]);

/** The next double above a positive x: one ulp past a split threshold. */
function nextUp(x: number): number {
  const bits = new BigInt64Array(Float64Array.of(x).buffer);
  bits[0]! += 1n;
  return new Float64Array(bits.buffer)[0]!;
}

async function loadError(path: string): Promise<{ code: string; message: string }> {
  try {
    const model = await loadRankingModel(path, 1, { intraOpThreads: 1 });
    model.retire();
  } catch (error) {
    if (isSearchOpError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${path} loaded`);
}

async function metric(
  registry: Registry,
  name: string,
): Promise<{ value: number; labels: Record<string, string | number> }[]> {
  return ((await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
  }[];
}

describe('model loading and the registry pointer', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await TestRegistry.create();
    await registry.publish(1, good(2));
    await registry.publish(2, good(3), { specVersion: 'v0' });
    const swapped = [...FEATURE_NAMES];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    await registry.publish(3, { featureNames: swapped, trees: good(0).trees });
    await registry.publish(4, {
      featureNames: FEATURE_NAMES.slice(0, 10),
      trees: [{ feature: 0, threshold: 1, left: leaf(0), right: leaf(1) }],
    });
    await writeFile(registry.modelPath(5), 'not a model at all');
    await registry.publish(6, good(5));
  });
  afterAll(() => registry.destroy());

  it('scores with the exact double-precision trees of the export', async () => {
    const model = await loadRankingModel(registry.modelPath(1), 1, { intraOpThreads: 1 });
    const priceAt = FEATURE_NAMES.indexOf('price');
    const bm25At = FEATURE_NAMES.indexOf('text_bm25');
    const rows = [
      [1.5, 50], // both thresholds exactly: x <= t goes left
      [nextUp(1.5), nextUp(50)],
      [Number.NaN, Number.NaN], // missing goes the default (left) way
    ];
    const matrix = new Float64Array(rows.length * FEATURE_NAMES.length);
    rows.forEach(([bm25, price], i) => {
      matrix.set(FEATURE_DEFAULTS, i * FEATURE_NAMES.length);
      matrix[i * FEATURE_NAMES.length + bm25At] = bm25!;
      matrix[i * FEATURE_NAMES.length + priceAt] = price!;
    });
    expect([...(await model.score(matrix, rows.length))]).toEqual([2, 1, 2]);
    model.retire();
  });

  it('refuses models that do not match the feature spec, saying what differs', async () => {
    const other = await loadError(registry.modelPath(2));
    expect(other.code).toBe(RankerErrorCode.MODEL_SPEC_MISMATCH);
    expect(other.message).toMatch(/built for feature spec v0/);
    const swapped = await loadError(registry.modelPath(3));
    expect(swapped.code).toBe(RankerErrorCode.MODEL_SPEC_MISMATCH);
    expect(swapped.message).toContain(`#3 model "${FEATURE_NAMES[4]}" vs spec "${FEATURE_NAMES[3]}"`);
    const narrow = await loadError(registry.modelPath(4));
    expect(narrow.code).toBe(RankerErrorCode.MODEL_SPEC_MISMATCH);
    expect(narrow.message).toMatch(/10 feature names/);
    expect((await loadError(registry.modelPath(5))).code).toBe(RankerErrorCode.MODEL_UNLOADABLE);
    expect((await loadError(registry.modelPath(77))).code).toBe(RankerErrorCode.MODEL_UNLOADABLE);
  });

  it('serves the pointed version, keeps it through refused versions and bad pointers, then swaps to a good one', async () => {
    const prometheus = new Registry();
    const models = new ModelRegistry(
      { root: registry.root, pollIntervalMs: 20, intraOpThreads: 1 },
      logger,
      createRankerMetrics(prometheus),
    );
    await registry.point(1);
    await models.start();
    try {
      expect(models.version).toBe(1);
      expect(await metric(prometheus, 'model_version_info')).toEqual([
        { value: 1, labels: { version: '1', feature_spec_version: 'v1' } },
      ]);
      for (const bad of [2, 3, 4, 5, 'latest', 99]) {
        await registry.point(bad);
        await models.refresh();
        expect(models.version).toBe(1);
      }
      const refusals = await metric(prometheus, 'model_loads_total');
      const byOutcome: Record<string, number> = {};
      for (const v of refusals) byOutcome[String(v.labels['outcome'])] = v.value;
      expect(byOutcome).toMatchObject({ loaded: 1, RNK_MODEL_SPEC_MISMATCH: 3, RNK_MODEL_UNLOADABLE: 2 });

      const held = models.acquire()!;
      await registry.point(6);
      await waitFor(() => models.version === 6, { what: 'the poller to swap to v6' });
      // A request that started on v1 still scores with v1 after the swap; v1 is freed when it is done.
      expect(held.version).toBe(1);
      expect(held.released).toBe(false);
      expect((await held.score(Float64Array.from(FEATURE_DEFAULTS), 1))[0]).toBe(2);
      held.release();
      expect(held.released).toBe(true);
      expect(await metric(prometheus, 'model_version_info')).toEqual([
        { value: 1, labels: { version: '6', feature_spec_version: 'v1' } },
      ]);
    } finally {
      await models.close();
    }
  });

  it('starts without a model when the registry has none, and loads one when it appears', async () => {
    const empty = await TestRegistry.create();
    const models = new ModelRegistry(
      { root: empty.root, pollIntervalMs: 20, intraOpThreads: 1 },
      logger,
      createRankerMetrics(new Registry()),
    );
    try {
      await models.start();
      expect(models.acquire()).toBeUndefined();
      await empty.publish(1, good(1));
      await empty.point(1);
      await waitFor(() => models.version === 1, { what: 'the first model' });
    } finally {
      await models.close();
      await empty.destroy();
    }
  });
});
