import { rawSchemaOf, type TopicSpecBase } from '@searchop/schemas';
import { StreamProcessorError, StreamProcessorErrorCode } from '../consumer/errors.ts';
import { partitionKey, type ConsumedEvent } from '../consumer/records.ts';
import { offlineTableOf, type AvroSchema, type OfflineRow, type OfflineTable } from './avro-to-parquet.ts';
import { groupByHour, type SegmentName } from './layout.ts';
import type { OfflineStore, PendingSegment } from './offline-store.ts';
import { encodeParquet } from './parquet-file.ts';

/**
 * The compactor's handler: each batch the runner hands over becomes, per Kafka partition, one
 * segment of Parquet files (one per event hour), written durably before the runner commits.
 */
export class Compactor {
  readonly #store: OfflineStore;
  readonly #tables = new Map<string, { table: OfflineTable<OfflineRow>; avroSchema: string }>();

  /** Maps every topic's Avro schema at construction, so an unmappable schema fails at boot. */
  constructor(store: OfflineStore, specs: readonly TopicSpecBase[]) {
    this.#store = store;
    for (const spec of specs) {
      const avro = rawSchemaOf(spec);
      const fields = (avro as { fields?: { name: string }[] }).fields ?? [];
      if (!fields.some((f) => f.name === 'occurred_at')) {
        throw new StreamProcessorError(
          StreamProcessorErrorCode.UNSUPPORTED_SCHEMA,
          `${spec.id}: the offline store partitions by event time, and the schema has no occurred_at`,
        );
      }
      this.#tables.set(spec.id, { table: offlineTableOf(avro as AvroSchema), avroSchema: JSON.stringify(avro) });
    }
  }

  /** Where a partition's consumption resumes: after the last offset on disk. */
  resumeFrom(spec: TopicSpecBase, partition: number): number | undefined {
    return this.#store.resumePosition(spec.id, partition);
  }

  async handle(events: readonly ConsumedEvent[]): Promise<void> {
    const segments: PendingSegment[] = [];
    for (const [, group] of groupByPartition(events)) {
      const first = group[0] as ConsumedEvent;
      const last = group[group.length - 1] as ConsumedEvent;
      const tableId = first.spec.id;
      const entry = this.#tables.get(tableId);
      if (!entry) continue;
      // The runner never hands over what the store holds; this guards the retry of a batch that failed half-way.
      const stored = this.#store.resumePosition(tableId, first.partition) ?? 0;
      const fresh = first.offset >= stored ? group : group.filter((e) => e.offset >= stored);
      if (fresh.length === 0) continue;
      const segment: SegmentName = {
        partition: first.partition,
        firstOffset: (fresh[0] as ConsumedEvent).offset,
        lastOffset: last.offset,
      };
      const rows = fresh as unknown as OfflineRow[];
      const metadata = {
        'searchop.topic': first.topic,
        'searchop.topic_id': tableId,
        'searchop.kafka_partition': String(segment.partition),
        'searchop.first_offset': String(segment.firstOffset),
        'searchop.last_offset': String(segment.lastOffset),
        'avro.schema': entry.avroSchema,
      };
      const files = groupByHour(rows, (row) => row.value['occurred_at'] as number).map(({ hour, rows: hourRows }) => ({
        hour,
        bytes: encodeParquet(entry.table, hourRows, metadata),
      }));
      segments.push({ topicId: tableId, segment, files });
      // Encoding is synchronous: let heartbeats and fetches through between partitions.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.#store.writeSegments(segments);
  }
}

/** Events per (topic, partition), in the order they came (offset order within a partition). */
function groupByPartition(events: readonly ConsumedEvent[]): Map<string, ConsumedEvent[]> {
  const groups = new Map<string, ConsumedEvent[]>();
  for (const event of events) {
    const key = partitionKey(event.topic, event.partition);
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  return groups;
}
