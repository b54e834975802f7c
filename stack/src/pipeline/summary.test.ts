import { describe, expect, it } from 'vitest';
import { formatSummary, type PipelineReport } from './summary.ts';

const report: PipelineReport = {
  events: { impressions: 10, clicks: 9, 'add-to-carts': 3, purchases: 1, catalog: 500, 'ranking-log': 4 },
  featureFreshness: { p50: 0.012, p99: 60, top: 60 },
  consumerLag: 0,
  featureKeys: 1234,
  rank: {
    requests: 4,
    degraded: 1,
    degradedReasons: { circuit_open: 1, feature_store_timeout: 0 },
    p50: 0.0031,
    p99: 0.02,
  },
  models: [
    {
      version: 1,
      promoted: true,
      metrics: {
        new: { ndcg_at_10: 0.7, truth_ndcg_at_10: 0.86 },
        logged: { ndcg_at_10: 0.66, truth_ndcg_at_10: 0.79 },
      },
      lists: { log: 0, backfill: 300 },
      examples: { log: 0, backfill: 4000 },
      reasons: [],
    },
    {
      version: 2,
      promoted: false,
      metrics: { new: { ndcg_at_10: 0.69 }, current: { ndcg_at_10: 0.7 } },
      lists: { log: 40, backfill: 310 },
      examples: { log: 480, backfill: 4100 },
      reasons: ['ndcg_at_10 -1.4%'],
    },
  ],
  production: 1,
  world: 'generated',
  links: {
    ranker: 'http://127.0.0.1:8080',
    collector: 'http://127.0.0.1:8090',
    featureProcessor: 'http://127.0.0.1:9465',
    compactor: 'http://127.0.0.1:9464',
    logs: '/run/logs',
    registry: '/run/registry',
    plots: ['/run/throughput.png'],
    servicesKeepRunning: false,
  },
  seconds: 301.2,
};

describe('pipeline summary', () => {
  it('prints every section with the run’s figures', () => {
    const text = formatSummary(report);
    expect(text).toContain('  ranking-log    4');
    // A quantile in the histogram's top bucket is a lower bound, said so.
    expect(text).toContain('feature freshness p50 12.0 ms, p99 ≥ 60000.0 ms');
    expect(text).toContain('feature store: 1234 Redis keys');
    expect(text).toContain('/rank (closed loop): 4 requests (1 degraded), latency p50 3.1 ms, p99 20.0 ms');
    expect(text).toContain('  degraded by reason: circuit_open 1\n');
    expect(text).toMatch(/v1 \(production\)\s+v1\s+0\.7000\s+n\/a\s+n\/a\s+0\.8600/);
    expect(text).toMatch(/\s+logged\s+0\.6600\s+n\/a\s+n\/a\s+0\.7900/);
    expect(text).toContain('v2 (not promoted)');
    expect(text).toContain(
      "v2: 40 lists from the ranker's feature log (480 examples), 310 backfilled (4100 examples); not promoted: ndcg_at_10 -1.4%",
    );
    expect(text).toContain('plot         /run/throughput.png');
    expect(text).toContain('--keep-running keeps them up');
    expect(text).toContain('finished in 301 s');
  });

  it('names the real labels for the Home Depot world', () => {
    expect(formatSummary({ ...report, world: 'homedepot' })).toContain('against the judgments’ real relevance labels');
  });
});
