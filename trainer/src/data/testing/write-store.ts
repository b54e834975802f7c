import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawSchemaOf, topics, type RankingLog, type TopicId } from '@searchop/schemas';
// Test and benchmark support only: files are encoded by the compactor's own Avro → Parquet mapping and
// placed in its layout, so the trainer reads exactly what production writes (services do not import
// each other outside tests). The compactor's durability steps (temporary files, fsync) are skipped.
import {
  offlineTableOf,
  type AvroSchema,
  type OfflineRow,
} from '../../../../stream-processors/src/compactor/avro-to-parquet.ts';
import { groupByHour, hourDir, segmentFileName } from '../../../../stream-processors/src/compactor/layout.ts';
import { encodeParquet } from '../../../../stream-processors/src/compactor/parquet-file.ts';
import type { ReplayEvent } from '../backfill.ts';

const topicOf: Record<ReplayEvent['type'], TopicId> = {
  search_impression: 'impressions',
  click: 'clicks',
  add_to_cart: 'addToCarts',
  purchase: 'purchases',
  product_change: 'catalog',
};

export interface StoreWriterOptions {
  /** Kafka partitions of the behaviour topics (by session); the catalogue and the log use partition 0. */
  readonly partitions?: number;
}

/**
 * Writes events into an offline store as if the compactor had consumed them in the given order: per
 * topic and partition, consecutive offsets; each `flush()` writes one segment per (topic, partition)
 * with one file per event hour, named part-<partition>-<first>-<last>.parquet.
 */
export class OfflineStoreWriter {
  readonly #root: string;
  readonly #partitions: number;
  readonly #offsets = new Map<string, number>();
  readonly #pending = new Map<string, { topicId: TopicId; partition: number; rows: OfflineRow[] }>();
  readonly #tables = new Map<TopicId, ReturnType<typeof offlineTableOf>>();
  written = 0;

  constructor(root: string, options: StoreWriterOptions = {}) {
    this.#root = root;
    this.#partitions = options.partitions ?? 3;
  }

  add(event: ReplayEvent): void {
    const partition = event.type === 'product_change' ? 0 : hash(event.value.session_id) % this.#partitions;
    this.#record(topicOf[event.type], partition, event.value, event.value.occurred_at);
  }

  addRankingLog(log: RankingLog): void {
    this.#record('rankingLog', 0, log, log.occurred_at);
  }

  #record(topicId: TopicId, partition: number, value: object, occurredAt: number): void {
    const key = `${topicId}:${partition}`;
    const offset = this.#offsets.get(key) ?? 0;
    this.#offsets.set(key, offset + 1);
    let pending = this.#pending.get(key);
    if (!pending) this.#pending.set(key, (pending = { topicId, partition, rows: [] }));
    pending.rows.push({ value: value as Record<string, unknown>, partition, offset, timestamp: occurredAt });
  }

  async flush(): Promise<void> {
    for (const { topicId, partition, rows } of this.#pending.values()) {
      if (rows.length === 0) continue;
      const spec = topics[topicId];
      let table = this.#tables.get(topicId);
      if (!table) this.#tables.set(topicId, (table = offlineTableOf(rawSchemaOf(spec) as AvroSchema)));
      const name = segmentFileName({ partition, firstOffset: rows[0]!.offset, lastOffset: rows.at(-1)!.offset });
      for (const { hour, rows: hourRows } of groupByHour(rows, (row) => row.value['occurred_at'] as number)) {
        const dir = join(this.#root, hourDir(spec.id, hour));
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, name), encodeParquet(table, hourRows, { 'searchop.topic_id': spec.id }));
      }
      this.written += rows.length;
      rows.length = 0;
    }
  }
}

/** Writes the events (and ranking logs) in one segment per topic and partition. */
export async function writeOfflineStore(
  root: string,
  events: readonly ReplayEvent[],
  rankingLogs: readonly RankingLog[] = [],
  options: StoreWriterOptions = {},
): Promise<void> {
  const writer = new OfflineStoreWriter(root, options);
  for (const event of events) writer.add(event);
  for (const log of rankingLogs) writer.addRankingLog(log);
  await writer.flush();
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}
