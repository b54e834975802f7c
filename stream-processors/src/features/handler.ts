import type { BehaviourEvent, ProductChange } from '@searchop/schemas';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ConsumedEvent } from '../consumer/records.ts';
import type { FeatureWriter, SourcedEvent } from './feature-writer.ts';

export interface FeatureHandlerOptions {
  readonly writer: FeatureWriter;
  readonly metrics: Registry;
  readonly now?: () => number;
}

/**
 * The feature processor's handler: splits a batch into behaviour events (counters) and catalogue
 * changes, applies both through the FeatureWriter and resolves when Redis acknowledged every update
 * (the runner then commits). Freshness is measured from the record's Kafka timestamp — when the
 * storefront sent it — to the moment its features are visible in Redis.
 */
export function featureHandler(options: FeatureHandlerOptions): (events: readonly ConsumedEvent[]) => Promise<void> {
  const now = options.now ?? Date.now;
  const registers = [options.metrics];
  const late = new Counter({
    name: 'searchop_features_late_increments_total',
    help: 'Late updates (per entity and event) older than a tile granularity’s retention relative to the entity’s newest event: not counted at that granularity',
    registers,
  });
  const updates = new Counter({
    name: 'searchop_features_entity_updates_total',
    help: 'Entity state updates by outcome: applied; replayed (already applied: nothing to do); contended (changed by another writer meanwhile: read again and recomputed)',
    labelNames: ['outcome'],
    registers,
  });
  const freshness = new Histogram({
    name: 'searchop_feature_freshness_seconds',
    help: 'From the record’s Kafka timestamp to its features being visible in Redis',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const latestEventTime = new Gauge({
    name: 'searchop_features_latest_event_time_seconds',
    help: 'Event time of the newest event applied, per topic (now minus this is the feature lag in event time)',
    labelNames: ['topic'],
    registers,
  });

  return async (events) => {
    const behaviour: SourcedEvent<BehaviourEvent>[] = [];
    const catalog: SourcedEvent<ProductChange>[] = [];
    const newest = new Map<string, number>();
    for (const record of events) {
      const { spec, partition, offset } = record;
      switch (record.topicId) {
        case 'impressions':
          behaviour.push({ spec, partition, offset, event: { type: 'search_impression', value: record.value } });
          break;
        case 'clicks':
          behaviour.push({ spec, partition, offset, event: { type: 'click', value: record.value } });
          break;
        case 'addToCarts':
          behaviour.push({ spec, partition, offset, event: { type: 'add_to_cart', value: record.value } });
          break;
        case 'purchases':
          behaviour.push({ spec, partition, offset, event: { type: 'purchase', value: record.value } });
          break;
        case 'catalog':
          catalog.push({ spec, partition, offset, event: record.value });
          break;
        default:
          // Topics without features (the ranking log) are not subscribed; nothing to do.
          continue;
      }
      newest.set(spec.id, Math.max(newest.get(spec.id) ?? 0, record.value.occurred_at));
    }
    const [counters, products] = await Promise.all([
      options.writer.applyBehaviour(behaviour),
      options.writer.applyCatalog(catalog),
    ]);
    const visibleAt = now();
    for (const record of events) freshness.observe(Math.max(0, visibleAt - record.timestamp) / 1000);
    late.inc(counters.late);
    updates.inc({ outcome: 'applied' }, counters.applied + products.applied);
    updates.inc({ outcome: 'replayed' }, counters.replayed + products.replayed);
    updates.inc({ outcome: 'contended' }, counters.contended);
    for (const [topic, at] of newest) latestEventTime.set({ topic }, at / 1000);
  };
}
