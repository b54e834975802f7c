import { describe, expect, it } from 'vitest';
import { parsePromQL } from './promql.ts';

describe('parsePromQL', () => {
  it('finds the metric of every selector and no label or function names', () => {
    const parsed = parsePromQL(
      'sum by (le, job) (rate(rank_request_duration_seconds_bucket{le="0.1", job=~"rank.*"}[$__rate_interval])) ' +
        '/ on () group_left sum(rank_requests_total offset 1h) or absent(model_version_info) ' +
        'and {__name__="searchop_consumergroup_lag"} > time() - searchop:rank_requests_slow:ratio_rate5m',
    );
    expect(parsed.errors).toEqual([]);
    expect([...parsed.metrics].sort()).toEqual([
      'model_version_info',
      'rank_request_duration_seconds_bucket',
      'rank_requests_total',
      'searchop:rank_requests_slow:ratio_rate5m',
      'searchop_consumergroup_lag',
    ]);
  });

  it('reports syntax errors', () => {
    expect(parsePromQL('sum(rate(x[5m])').errors).not.toEqual([]);
    expect(parsePromQL('rate(x{job="a"}[5m]) +').errors).not.toEqual([]);
  });
});
