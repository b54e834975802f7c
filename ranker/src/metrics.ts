import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The ranker's metrics, under the names the dashboards and alerts expect (k8s/ and the runbook):
 * rank_requests_total, rank_request_duration_seconds, rank_endpoint_errors_total, model_version_info.
 */
export function createRankerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'rank_requests_total',
      help: 'POST /rank requests answered, by HTTP status and whether the ranking was degraded.',
      labelNames: ['status', 'degraded'] as const,
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'rank_request_duration_seconds',
      help: 'Server-side time of POST /rank, from the first byte read to the response written.',
      labelNames: ['degraded'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    endpointErrors: new Counter({
      name: 'rank_endpoint_errors_total',
      help: 'Requests to any endpoint answered with an error, by route, status and error code.',
      labelNames: ['route', 'status', 'code'] as const,
      registers,
    }),
    candidates: new Histogram({
      name: 'rank_candidates',
      help: 'Candidates per ranking.',
      buckets: [1, 10, 50, 100, 200, 500, 1000, 2000],
      registers,
    }),
    degraded: new Counter({
      name: 'rank_degraded_total',
      help: 'Rankings served degraded, by reason (feature store timeout, error, open circuit, no model).',
      labelNames: ['reason'] as const,
      registers,
    }),
    modelVersion: new Gauge({
      name: 'model_version_info',
      help: 'The model version being served (value 1 on its series); no series while no model is loaded.',
      labelNames: ['version', 'feature_spec_version'] as const,
      registers,
    }),
    modelLoads: new Counter({
      name: 'model_loads_total',
      help: 'Model loads attempted from the registry, by outcome (loaded or the error code that refused it).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    scoringSeconds: new Histogram({
      name: 'rank_scoring_duration_seconds',
      help: 'Time onnxruntime took to score one ranking.',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers,
    }),
    featureStoreSeconds: new Histogram({
      name: 'feature_store_duration_seconds',
      help: 'Time of the feature-store round trip for one ranking, by outcome (ok, timeout, error).',
      labelNames: ['outcome'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    featureStoreMisses: new Counter({
      name: 'feature_store_misses_total',
      help: 'Candidates whose entity had no value in the feature store (served on the defaults), by entity.',
      labelNames: ['entity'] as const,
      registers,
    }),
    featureStoreLookups: new Counter({
      name: 'feature_store_lookups_total',
      help: 'Candidate entity lookups in the feature store, by entity (the denominator of the miss rate).',
      labelNames: ['entity'] as const,
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'feature_store_circuit_open',
      help: '1 while the feature-store circuit breaker is open (requests skip Redis), else 0.',
      registers,
    }),
    featureLogSent: new Counter({
      name: 'feature_log_sent_total',
      help: 'Rankings written to the feature-log topic.',
      registers,
    }),
    featureLogDropped: new Counter({
      name: 'feature_log_dropped_total',
      help: 'Rankings not logged, by reason (buffer_full under back-pressure, send_failed, refused as invalid or too large, closed).',
      labelNames: ['reason'] as const,
      registers,
    }),
    featureLogBuffered: new Gauge({
      name: 'feature_log_buffered',
      help: 'Rankings waiting in memory for the feature-log topic.',
      registers,
    }),
  };
}

export type RankerMetrics = ReturnType<typeof createRankerMetrics>;
