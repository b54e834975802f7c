import { createLogger } from '@searchop/runtime';
import { COUNTER_TTL_SECONDS, WINDOWS, applyIncrements, emptyState, windowCounts } from '@searchop/schemas';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isIdlePair, schedulePairPruning, type PrunePairsResult } from './pair-pruner.ts';

const T0 = Date.UTC(2026, 9, 1, 12, 0); // a five-minute tile boundary
const MIN = 60_000;
const TTL_MS = COUNTER_TTL_SECONDS * 1000;

describe('isIdlePair', () => {
  it('is idle exactly when the newest event’s five-minute tile ended the counter TTL ago', () => {
    const state = emptyState();
    applyIncrements(state, [{ at: T0 + 2 * MIN, counts: { impressions: 3, clicks: 1 } }]);
    applyIncrements(state, [{ at: T0 - 20 * 24 * 60 * MIN, counts: { impressions: 1 } }]);
    const lastOfTile = T0 + 5 * MIN - 1;
    expect(isIdlePair(state, lastOfTile + TTL_MS - 1)).toBe(false);
    expect(isIdlePair(state, lastOfTile + TTL_MS)).toBe(true);
    // By then, no window sees anything of the pair.
    for (const w of WINDOWS) expect(windowCounts(state, w, lastOfTile + TTL_MS)).toMatchObject({ impressions: 0 });
  });

  it('judges a state without events idle, and one with events ahead of now live', () => {
    expect(isIdlePair(emptyState(), T0)).toBe(true);
    const future = emptyState();
    applyIncrements(future, [{ at: T0 + 60 * MIN, counts: { impressions: 1 } }]);
    expect(isIdlePair(future, T0)).toBe(false);
  });
});

describe('schedulePairPruning', () => {
  afterEach(() => void vi.useRealTimers());
  const logger = createLogger('pair-pruner-test', 'silent');
  const result: PrunePairsResult = { hashes: 2, fields: 5, pruned: 3, unreadable: 0 };
  const counter = async (metrics: Registry, name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name)!;
    const values = metric.values as { value: number; labels: Record<string, string> }[];
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };

  it('runs one interval after the start, never two at once, counts failures and stops', async () => {
    vi.useFakeTimers();
    const metrics = new Registry();
    const calls: { resolve: (r: PrunePairsResult) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
    const pruning = schedulePairPruning({
      intervalMs: 1_000,
      prune: (signal) => new Promise((resolve, reject) => calls.push({ resolve, reject, signal })),
      logger,
      metrics,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    // The first run still going at the next tick: that tick does not start another.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(1);
    expect(await counter(metrics, 'searchop_features_pair_prune_runs_total', { outcome: 'skipped' })).toBe(1);
    calls[0]!.resolve(result);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
    expect(await counter(metrics, 'searchop_features_pairs_pruned_total')).toBe(3);
    expect(await counter(metrics, 'searchop_features_pair_prune_runs_total', { outcome: 'ok' })).toBe(1);
    // A failed run is counted and the next one still comes.
    calls[1]!.reject(new Error('redis went away'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await counter(metrics, 'searchop_features_pair_prune_runs_total', { outcome: 'failed' })).toBe(1);
    expect(calls).toHaveLength(3);
    // Stopping aborts the current run, waits for it, and no run follows.
    const stopped = pruning.stop();
    expect(calls[2]!.signal.aborted).toBe(true);
    calls[2]!.resolve(result);
    await stopped;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(3);
    expect(await counter(metrics, 'searchop_features_pairs_pruned_total')).toBe(6);
  });

  it('never runs with an interval of 0', async () => {
    vi.useFakeTimers();
    const metrics = new Registry();
    let runs = 0;
    const pruning = schedulePairPruning({
      intervalMs: 0,
      prune: () => {
        runs++;
        return Promise.resolve(result);
      },
      logger,
      metrics,
    });
    await vi.advanceTimersByTimeAsync(24 * 60 * MIN);
    await pruning.stop();
    expect(runs).toBe(0);
  });
});
