import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { partitionKey } from './records.ts';

/** What happened to a consumed record. */
export const RecordOutcome = {
  /** Handed to the handler, which made its effect durable. */
  PROCESSED: 'processed',
  /** Poison: produced to the dead-letter topic. */
  DEAD_LETTERED: 'dead_lettered',
  /** Already durable before (a replay after a crash or a rebalance), so not handed over again. */
  SKIPPED: 'skipped',
} as const;
export type RecordOutcome = (typeof RecordOutcome)[keyof typeof RecordOutcome];

/**
 * The runner's Prometheus series. Lag follows kafka_exporter's `kafka_consumergroup_lag`: the
 * partition's high watermark minus the group's committed offset, per partition, so the usual
 * dashboards and alerts carry over.
 */
export class ConsumerMetrics {
  readonly records: Counter<'topic' | 'outcome'>;
  readonly deadLetters: Counter<'topic' | 'code'>;
  readonly batchSeconds: Histogram<'outcome'>;
  readonly batchRecords: Histogram;
  readonly #highWatermarks = new Map<string, { topic: string; partition: number; offset: number }>();
  readonly #committed = new Map<string, number>();

  /** `pending` counts the events gathered and not yet handed over. */
  constructor(registry: Registry, groupId: string, pending: () => number) {
    const registers = [registry];
    new Gauge({
      name: 'searchop_consumer_pending_events',
      help: 'Events gathered and not yet handed to the handler (not durable, not committed)',
      registers,
      collect() {
        this.set(pending());
      },
    });
    this.records = new Counter({
      name: 'searchop_consumer_records_total',
      help: 'Records consumed, by source topic and outcome (processed, dead_lettered, skipped)',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'searchop_consumer_dead_letters_total',
      help: 'Records produced to a dead-letter topic, by source topic and error code',
      labelNames: ['topic', 'code'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'searchop_consumer_batch_duration_seconds',
      help: 'Time to make one batch durable (handler) and commit its offsets',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'searchop_consumer_batch_records',
      help: 'Events handed to the handler per batch',
      buckets: [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 250_000, 1_000_000],
      registers,
    });
    const highWatermarks = this.#highWatermarks;
    const committed = this.#committed;
    new Gauge({
      name: 'searchop_consumergroup_lag',
      help: 'High watermark minus committed offset, per partition (kafka_consumergroup_lag)',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const [key, hw] of highWatermarks) {
          const position = committed.get(key);
          if (position === undefined) continue;
          this.set(
            { consumergroup: groupId, topic: hw.topic, partition: String(hw.partition) },
            Math.max(0, hw.offset - position),
          );
        }
      },
    });
  }

  highWatermark(topic: string, partition: number, offset: number): void {
    this.#highWatermarks.set(partitionKey(topic, partition), { topic, partition, offset });
  }

  committedOffset(topic: string, partition: number, offset: number): void {
    this.#committed.set(partitionKey(topic, partition), offset);
  }

  /** Stops reporting partitions this member no longer owns (their new owner reports them). */
  retain(owned: (topic: string, partition: number) => boolean): void {
    for (const [key, hw] of this.#highWatermarks) {
      if (!owned(hw.topic, hw.partition)) {
        this.#highWatermarks.delete(key);
        this.#committed.delete(key);
      }
    }
  }
}
