import { maxAttributionMs, type DataConfig } from './data-config.ts';

const DAY_MS = 86_400_000;

/**
 * The instants that bound a training run, epoch milliseconds, half-open intervals:
 *   [replayFrom, examplesTo)   events replayed for point-in-time features (warm-up included)
 *   [examplesFrom, examplesTo) impressions that become examples
 *   [examplesFrom, end)        clicks, carts and purchases that can label them
 * examplesTo = end − the longest attribution window, so every example's label is final.
 */
export interface Period {
  readonly replayFrom: number;
  readonly examplesFrom: number;
  readonly examplesTo: number;
  readonly end: number;
}

/**
 * The period for data ending at `end` (exclusive; by default just after the newest event in the
 * store) and starting at `since` (by default end − window_days).
 */
export function periodOf(config: DataConfig, end: number, since?: number): Period {
  const examplesFrom = since ?? end - Math.round(config.window_days * DAY_MS);
  return {
    replayFrom: examplesFrom - Math.round(config.warmup_days * DAY_MS),
    examplesFrom,
    examplesTo: end - maxAttributionMs(config),
    end,
  };
}

/** A SQL condition on the store's `date` partition key covering [fromMs, toMs), for pruning whole days. */
export function datePartitions(fromMs: number, toMs: number): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const from = Number.isFinite(fromMs) ? `"date" >= DATE '${day(fromMs)}'` : 'true';
  return `${from} AND "date" <= DATE '${day(toMs)}'`;
}

export const iso = (ms: number) => new Date(ms).toISOString();
