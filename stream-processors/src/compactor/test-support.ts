import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { testServices as servicesOf, uniqueName } from '@searchop/runtime/testing';
import {
  topics,
  type EventCodec,
  type EventOf,
  type EventType,
  type Topics,
  type TopicSpecBase,
  type ValueOf,
} from '@searchop/schemas';
import type { Admin } from 'kafkajs';
import type { Registry } from 'prom-client';
import { inject } from 'vitest';
import type { DeadLetterPublisher } from '../consumer/dead-letter.ts';
import type { BatchLimits } from '../consumer/pending-batch.ts';
import { runConsumer, type ConsumerRunner } from '../consumer/run-consumer.ts';
import { Compactor } from './compactor.ts';
import { compactedTopics } from './config.ts';
import { topicDir } from './layout.ts';
import { OfflineStore } from './offline-store.ts';

/** Shared by the compactor's integration tests: services, own topics, valid events, and DuckDB over the store. */

/** The Kafka and registry the integration run provides (see stack's global setup). */
export function testServices() {
  return servicesOf(inject, { level: 'warn' });
}

export interface CompactorRun {
  readonly services: ReturnType<typeof testServices>;
  readonly codec: EventCodec;
  readonly deadLetters: DeadLetterPublisher;
  readonly specs: readonly TopicSpecBase[];
  readonly root: string;
  readonly groupId: string;
  readonly metrics: Registry;
  readonly batch?: Partial<BatchLimits>;
}

/** The compactor in this process, as main.ts wires it: a store opened on `root`, the runner over it. */
export async function startCompactor(run: CompactorRun): Promise<ConsumerRunner> {
  const { kafka, logger } = run.services;
  const store = await OfflineStore.open(
    run.root,
    run.specs.map((s) => s.id),
    logger,
  );
  const compactor = new Compactor(store, run.specs);
  return runConsumer({
    kafka,
    codec: run.codec,
    logger,
    metrics: run.metrics,
    groupId: run.groupId,
    specs: run.specs,
    deadLetters: run.deadLetters,
    handle: (events) => compactor.handle(events),
    resumeFrom: async (spec, partition) => compactor.resumeFrom(spec, partition),
    ...(run.batch ? { batch: run.batch } : {}),
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    lagRefreshMs: 500,
  });
}

export const allTopicIds = Object.values(topics).map((t) => t.id);

/** Every topic of the registry under a name only this test uses (same subjects and schemas). */
export function ownTopics(prefix: string): { suffix: string; specs: TopicSpecBase[] } {
  const suffix = `.${uniqueName(prefix)}`;
  return { suffix, specs: compactedTopics({ COMPACTOR_TOPICS: allTopicIds, TOPIC_NAME_SUFFIX: suffix }) };
}

export const eventTypeOf: Record<string, EventType | 'ranking_log'> = {
  impressions: 'search_impression',
  clicks: 'click',
  'add-to-carts': 'add_to_cart',
  purchases: 'purchase',
  catalog: 'product_change',
  'ranking-log': 'ranking_log',
};

/** A valid event of the topic, numbered `i` (which varies ids, products and list lengths). */
export function sampleEvent(topicId: string, i: number, occurredAt: number, sessionId: string): unknown {
  const common = {
    event_id: randomUUID(),
    occurred_at: occurredAt,
    impression_id: i % 5 === 0 ? null : `imp-${i}`,
    request_id: null,
    query: 'Cordless Drill',
    normalized_query: 'cordless drill',
    user_id: i % 2 === 0 ? null : `u-${i % 97}`,
    session_id: sessionId,
    product_id: `p-${i % 1_000}`,
    position: i % 3 === 0 ? null : (i % 24) + 1,
  };
  switch (eventTypeOf[topicId]) {
    case 'search_impression':
      return {
        event_id: common.event_id,
        request_id: i % 4 === 0 ? `req-${i}` : null,
        occurred_at: occurredAt,
        query: 'Cordless Drill',
        normalized_query: 'cordless drill',
        user_id: common.user_id,
        session_id: sessionId,
        page: 1 + (i % 3),
        device: (['DESKTOP', 'MOBILE', 'TABLET', 'APP', 'OTHER'] as const)[i % 5] ?? 'OTHER',
        items: Array.from({ length: i % 7 }, (_, k) => ({
          product_id: `p-${(i + k) % 1_000}`,
          position: k + 1,
          retrieval_score: k % 2 === 0 ? null : k / 2,
        })),
      } satisfies EventOf<'search_impression'>;
    case 'click':
      return common satisfies EventOf<'click'>;
    case 'add_to_cart':
      return { ...common, quantity: 1 + (i % 3) } satisfies EventOf<'add_to_cart'>;
    case 'purchase':
      return {
        ...common,
        order_id: `o-${i}`,
        quantity: 1,
        unit_price_minor: 1_000 + i,
        currency: 'EUR',
      } satisfies EventOf<'purchase'>;
    case 'product_change':
      return {
        event_id: common.event_id,
        occurred_at: occurredAt,
        product_id: common.product_id,
        op: i % 10 === 0 ? 'DELETE' : 'UPSERT',
        product:
          i % 10 === 0
            ? null
            : {
                title: `Product ${i}`,
                brand: i % 2 === 0 ? 'Acme' : null,
                category_path: ['Tools', 'Drills'].slice(0, 1 + (i % 2)),
                price_minor: i % 3 === 0 ? null : 9_999 + i,
                currency: 'EUR',
                rating: i % 4 === 0 ? null : 4.5,
                review_count: i,
                available: i % 6 !== 0,
                released_at: i % 2 === 0 ? null : occurredAt - 86_400_000,
                attributes: i % 3 === 0 ? {} : { voltage: '18', colour: `c${i % 4}` },
              },
      } satisfies EventOf<'product_change'>;
    case 'ranking_log':
      return {
        request_id: `req-${i}`,
        occurred_at: occurredAt,
        query: 'Cordless Drill',
        normalized_query: 'cordless drill',
        user_id: common.user_id,
        session_id: i % 4 === 0 ? null : sessionId,
        model_version: i % 5 === 0 ? null : 3,
        feature_spec_version: 'v1',
        degraded: i % 5 === 0,
        degraded_reason: i % 5 === 0 ? 'no_model' : null,
        items: Array.from({ length: i % 4 }, (_, k) => ({
          product_id: `p-${(i + k) % 1_000}`,
          position: k + 1,
          score: i % 5 === 0 ? null : 1 / (k + 1),
          retrieval_score: null,
          features: [k, 0.5, k * 2],
        })),
      } satisfies ValueOf<Topics['rankingLog']>;
    default:
      throw new Error(`no sample for topic ${topicId}`);
  }
}

/** Runs SQL in an in-memory DuckDB (BIGINTs come back as bigint). */
export async function duckdb<Row = Record<string, unknown>>(sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** DuckDB's table expression over one topic of the store, with the Hive keys as columns. */
export function storeTable(root: string, topicId: string): string {
  return `read_parquet('${root}/${topicDir(topicId)}/**/*.parquet', hive_partitioning = true)`;
}

/** Rows per Kafka partition in the store, or an empty map while the topic has no file yet. */
export async function storedRowsPerPartition(root: string, topicId: string): Promise<Map<number, number>> {
  try {
    const rows = await duckdb<{ p: number; n: bigint }>(
      `SELECT kafka_partition AS p, count(*) AS n FROM ${storeTable(root, topicId)} GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.p, Number(r.n)]));
  } catch (error) {
    if (/No files found/i.test((error as Error).message)) return new Map();
    throw error;
  }
}

export interface PartitionComparison {
  readonly topic: string;
  readonly partition: number;
  /** high watermark − low watermark: the records the topic holds. */
  readonly kafkaRecords: number;
  /** Records of the partition that went to the dead-letter topic instead. */
  readonly deadLettered: number;
  readonly parquetRows: number;
  readonly distinctOffsets: number;
  readonly minOffset: number | null;
  readonly maxOffset: number | null;
  readonly low: number;
  readonly high: number;
}

/**
 * Compares the store with the topic's offsets, per partition: rows, distinct (partition, offset)
 * pairs and the offset range, against high − low watermark less the partition's dead letters.
 */
export async function compareWithKafka(
  admin: Admin,
  root: string,
  spec: TopicSpecBase,
  deadLettered: ReadonlyMap<number, number> = new Map(),
): Promise<PartitionComparison[]> {
  const offsets = await admin.fetchTopicOffsets(spec.name);
  let stored: { p: number; n: bigint; d: bigint; lo: bigint | null; hi: bigint | null }[] = [];
  try {
    stored = await duckdb(
      `SELECT kafka_partition AS p, count(*) AS n, count(DISTINCT kafka_offset) AS d,
              min(kafka_offset) AS lo, max(kafka_offset) AS hi
       FROM ${storeTable(root, spec.id)} GROUP BY 1`,
    );
  } catch (error) {
    if (!/No files found/i.test((error as Error).message)) throw error;
  }
  return offsets
    .map(({ partition, low, high }) => {
      const s = stored.find((r) => r.p === partition);
      return {
        topic: spec.id,
        partition,
        kafkaRecords: Number(high) - Number(low),
        deadLettered: deadLettered.get(partition) ?? 0,
        parquetRows: Number(s?.n ?? 0),
        distinctOffsets: Number(s?.d ?? 0),
        minOffset: s?.lo == null ? null : Number(s.lo),
        maxOffset: s?.hi == null ? null : Number(s.hi),
        low: Number(low),
        high: Number(high),
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** True when the partition's rows are exactly its records less its dead letters, each offset once. */
export function matches(r: PartitionComparison): boolean {
  return r.parquetRows === r.kafkaRecords - r.deadLettered && r.distinctOffsets === r.parquetRows;
}

export function formatComparison(rows: readonly PartitionComparison[]): string {
  const header = [
    'topic',
    'partition',
    'kafka low..high',
    'kafka records',
    'dead-lettered',
    'parquet rows',
    'distinct offsets',
    'equal',
  ];
  const lines = rows.map((r) => [
    r.topic,
    String(r.partition),
    `${r.low}..${r.high}`,
    String(r.kafkaRecords),
    String(r.deadLettered),
    String(r.parquetRows),
    String(r.distinctOffsets),
    matches(r) ? 'yes' : 'NO',
  ]);
  const t = rows.reduce(
    (sum, r) => ({ k: sum.k + r.kafkaRecords, d: sum.d + r.deadLettered, p: sum.p + r.parquetRows }),
    { k: 0, d: 0, p: 0 },
  );
  lines.push(['total', '', '', String(t.k), String(t.d), String(t.p), '', rows.every(matches) ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}
