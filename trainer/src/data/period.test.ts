import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataConfigSchema } from './data-config.ts';
import { datePartitions, periodOf } from './period.ts';

const DAY = 86_400_000;
const shipped = dataConfigSchema.parse(
  JSON.parse(readFileSync(new URL('../../config/data.json', import.meta.url), 'utf8')),
);
const config = {
  ...shipped,
  attribution_minutes: { ...shipped.attribution_minutes, purchase: 2880 },
  window_days: 28,
  warmup_days: 30,
};

describe('training period', () => {
  it('ends the examples one longest attribution window before the data ends, and warms up before them', () => {
    const end = Date.UTC(2026, 5, 30);
    expect(periodOf(config, end)).toEqual({
      replayFrom: end - 58 * DAY,
      examplesFrom: end - 28 * DAY,
      examplesTo: end - 2 * DAY,
      end,
    });
    const since = Date.UTC(2026, 5, 1);
    expect(periodOf(config, end, since).examplesFrom).toBe(since);
    expect(periodOf(config, end, since).replayFrom).toBe(since - 30 * DAY);
  });

  it('prunes whole UTC days of the store, open-ended for the catalogue', () => {
    expect(datePartitions(Date.UTC(2026, 0, 1, 23), Date.UTC(2026, 0, 3, 1))).toBe(
      `"date" >= DATE '2026-01-01' AND "date" <= DATE '2026-01-03'`,
    );
    expect(datePartitions(Number.NEGATIVE_INFINITY, Date.UTC(2026, 0, 3))).toBe(`true AND "date" <= DATE '2026-01-03'`);
  });

  it('refuses data configs with unknown keys or a click worth nothing', () => {
    expect(() => dataConfigSchema.parse({ ...config, extra: true })).toThrow();
    expect(() => dataConfigSchema.parse({ ...config, labels: { ...config.labels, click: 0 } })).toThrow();
  });
});
