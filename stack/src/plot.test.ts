import { describe, expect, it } from 'vitest';
import { fromCumulative, latencyDistributionSpec, rateOverTimeSpec, renderPng } from './plot.ts';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('plots', () => {
  it('turns cumulative Prometheus buckets into per-bucket counts, +Inf as one more step', () => {
    expect(
      fromCumulative(
        'r',
        [
          [Number.POSITIVE_INFINITY, 10],
          [0.005, 2],
          [0.01, 7],
        ],
        1000,
      ),
    ).toEqual([
      { series: 'r', from: 2.5, to: 5, count: 2 },
      { series: 'r', from: 5, to: 10, count: 5 },
      { series: 'r', from: 10, to: 20, count: 3 },
    ]);
  });

  it('renders a latency distribution and a rate over time to PNG images', async () => {
    const samples = Array.from({ length: 200 }, (_, i) => ({ series: i % 2 ? 'a' : 'b', ms: 1 + (i % 17) }));
    const latency = await renderPng(latencyDistributionSpec('latency', samples));
    expect(latency.subarray(0, 8)).toEqual(PNG_MAGIC);
    const points = Array.from({ length: 20 }, (_, i) => ({ seconds: i * 3, perSecond: 100 + i, series: 'p' }));
    const rate = await renderPng(rateOverTimeSpec('rate', 'events/s', points, [{ seconds: 0, label: 'start' }]));
    expect(rate.subarray(0, 8)).toEqual(PNG_MAGIC);
    // PNG width (bytes 16–19 of the IHDR chunk): the chart at twice its size, not an empty image.
    expect(rate.readUInt32BE(16)).toBeGreaterThan(1000);
  });
});
