import { Counter, Histogram, type Registry } from 'prom-client';

export type EventOutcome = 'accepted' | 'duplicate' | 'rejected' | 'failed';

export interface CollectorMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  /** By event type (`unknown` when the type itself is invalid) and outcome. */
  readonly events: Counter<'type' | 'outcome'>;
  /** UBI documents by kind (query, event, unknown) and outcome. */
  readonly ubiDocuments: Counter<'kind' | 'outcome'>;
}

export function createCollectorMetrics(registry: Registry): CollectorMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'searchop_collector_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'searchop_collector_request_duration_seconds',
      help: 'Time from request to response, including the wait for Kafka acknowledgements',
      labelNames: ['route'],
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    events: new Counter({
      name: 'searchop_collector_events_total',
      help: 'Events received by type and outcome (accepted, duplicate, rejected, failed)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    ubiDocuments: new Counter({
      name: 'searchop_collector_ubi_documents_total',
      help: 'UBI documents received by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
  };
}

/** Adds up per-request counts first: one counter update per label set, not one per event. */
export function countBy<K extends string>(counter: Counter<K>, items: readonly Record<K, string>[]): void {
  const counts = new Map<string, { labels: Record<K, string>; n: number }>();
  for (const labels of items) {
    const key = Object.values(labels).join('\u0000');
    const entry = counts.get(key);
    if (entry) entry.n++;
    else counts.set(key, { labels, n: 1 });
  }
  for (const { labels, n } of counts.values()) counter.inc(labels as never, n);
}
