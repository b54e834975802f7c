import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { avroTypeHook } from './double-arrays.ts';
import type { AddToCart, Click, ProductChange, Purchase, RankingLog, SearchImpression } from './generated/events.ts';

/**
 * The topic registry: the single place that pairs each topic with its value schema, key, partition
 * count, retention, cleanup policy and dead-letter topic. Provisioning creates exactly these topics
 * (producers never auto-create) and registers exactly these schemas.
 *
 * Keys. All behavioural topics are keyed by session_id: a session's impression, clicks, carts and
 * purchases stay in order on one partition, the four topics are co-partitioned (an attribution join
 * needs no repartition), and sessions are many and small, so partitions stay even — product or query
 * keys would follow the Zipf-shaped popularity of products and queries and make hot partitions.
 * Per-product and per-query features do not need key locality: their Redis updates are fenced per
 * source partition (see stream-processors), so any partition may update any key.
 * The catalogue is keyed by product_id and compacted: the latest record per product is its state.
 */
export interface TopicSpecBase {
  /** Short name used in code, metrics and CLI output. */
  readonly id: string;
  readonly name: string;
  /**
   * Identifies the topic in the exactly-once fences stored in Redis (source = index × 1024 +
   * partition): fixed forever for a topic, never reused.
   */
  readonly sourceIndex: number;
  /** The Avro schema file under schemas/avro/. */
  readonly schemaFile: string;
  /** TopicNameStrategy subject: `<topic>-value`. Keys are plain UTF-8 strings, not registered. */
  readonly subject: string;
  /** The value field whose text is the record key. */
  readonly keyField: string;
  readonly partitions: number;
  /** -1 keeps records forever (compacted topics). */
  readonly retentionMs: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Where records that cannot be decoded or validated go, with headers saying why. */
  readonly dlq: string;
}

export interface TopicSpec<Value> extends TopicSpecBase {
  readonly keyField: keyof Value & string;
  /** Phantom field carrying the value type; never set. */
  readonly _value?: Value;
}

const DAY_MS = 86_400_000;

function topic<Value>(spec: Omit<TopicSpec<Value>, 'subject' | 'dlq'>): TopicSpec<Value> {
  return { ...spec, subject: `${spec.name}-value`, dlq: `${spec.name}.dlq` };
}

export const topics = {
  impressions: topic<SearchImpression>({
    id: 'impressions',
    sourceIndex: 0,
    name: 'searchop.search-impressions.v1',
    schemaFile: 'search-impression.avsc',
    keyField: 'session_id',
    partitions: 6,
    // 35 days: the 30-day windows can be rebuilt from the topic, with margin for a late backfill.
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
  }),
  clicks: topic<Click>({
    id: 'clicks',
    sourceIndex: 1,
    name: 'searchop.clicks.v1',
    schemaFile: 'click.avsc',
    keyField: 'session_id',
    partitions: 6,
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
  }),
  addToCarts: topic<AddToCart>({
    id: 'add-to-carts',
    sourceIndex: 2,
    name: 'searchop.add-to-carts.v1',
    schemaFile: 'add-to-cart.avsc',
    keyField: 'session_id',
    partitions: 6,
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
  }),
  purchases: topic<Purchase>({
    id: 'purchases',
    sourceIndex: 3,
    name: 'searchop.purchases.v1',
    schemaFile: 'purchase.avsc',
    keyField: 'session_id',
    partitions: 6,
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
  }),
  catalog: topic<ProductChange>({
    id: 'catalog',
    sourceIndex: 4,
    name: 'searchop.catalog.v1',
    schemaFile: 'product-change.avsc',
    keyField: 'product_id',
    partitions: 3,
    retentionMs: -1,
    cleanupPolicy: 'compact',
  }),
  // The ranker's feature log: what was served, for the trainer. Keyed by request_id, not session_id:
  // session_id is optional on POST /rank (a null key would pile onto one partition), every record is
  // a self-contained ranking that needs no ordering with any other, and the trainer joins it with the
  // impressions by request_id in batch from the offline store, so co-partitioning buys nothing while
  // random request ids keep partitions even.
  rankingLog: topic<RankingLog>({
    id: 'ranking-log',
    sourceIndex: 5,
    name: 'searchop.ranking-log.v1',
    schemaFile: 'ranking-log.avsc',
    keyField: 'request_id',
    partitions: 6,
    // 35 days, as the behavioural topics: a retraining window of 30 days plus margin.
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
  }),
} as const;

export type Topics = typeof topics;
export type TopicId = keyof Topics;
/**
 * A topic as a deployment names it: TOPIC_NAME_SUFFIX (shared Kafka config) is appended to the topic
 * and its DLQ, so several deployments, pipeline runs or tests share one cluster. Subjects, ids and
 * fence sources stay those of the registry: the contract does not change with the name.
 */
export function deployedTopic<T extends TopicSpecBase>(spec: T, suffix: string): T {
  return suffix === '' ? spec : { ...spec, name: `${spec.name}${suffix}`, dlq: `${spec.name}${suffix}.dlq` };
}

/** Topic name by topic id for a suffix: what the SDK's `topicNames` option takes. */
export function deployedTopicNames(suffix: string): Record<string, string> {
  return Object.fromEntries(Object.values(topics).map((t) => [t.id, deployedTopic(t, suffix).name]));
}

/** Fence source of a Kafka partition of a topic. Partitions beyond 1023 are not supported. */
export function fenceSource(spec: Pick<TopicSpecBase, 'sourceIndex'>, partition: number): number {
  return spec.sourceIndex * 1024 + partition;
}

export type ValueOf<T> = T extends TopicSpec<infer V> ? V : never;
export type AnyTopic = Topics[TopicId];

/** Dead-letter topics keep raw bytes for two weeks: long enough to inspect and replay. */
export const DLQ_RETENTION_MS = 14 * DAY_MS;
export const DLQ_PARTITIONS = 1;

/**
 * Event types as named on the wire by the collector's JSON API and the SDK, mapped to their topic.
 */
export const eventTypes = {
  search_impression: topics.impressions,
  click: topics.clicks,
  add_to_cart: topics.addToCarts,
  purchase: topics.purchases,
  product_change: topics.catalog,
} as const;
export type EventType = keyof typeof eventTypes;
export type EventOf<T extends EventType> = ValueOf<(typeof eventTypes)[T]>;

const avroDir = fileURLToPath(new URL('../avro/', import.meta.url));

/** The raw Avro schema (parsed JSON) of a topic's values, from its .avsc file. */
const rawCache = new Map<string, avro.Schema>();
export function rawSchemaOf(spec: Pick<TopicSpecBase, 'schemaFile'>): avro.Schema {
  let schema = rawCache.get(spec.schemaFile);
  if (!schema) {
    schema = JSON.parse(readFileSync(`${avroDir}${spec.schemaFile}`, 'utf8')) as avro.Schema;
    rawCache.set(spec.schemaFile, schema);
  }
  return schema;
}

const typeCache = new Map<string, avro.Type>();
/**
 * The compiled avsc Type of a topic's values (cached): validation and the reader schema. Arrays of
 * doubles also take a Float64Array when writing (double-arrays.ts).
 */
export function avroTypeOf(spec: Pick<TopicSpecBase, 'schemaFile'>): avro.Type {
  let type = typeCache.get(spec.schemaFile);
  if (!type) {
    type = avro.Type.forSchema(rawSchemaOf(spec), { typeHook: avroTypeHook });
    typeCache.set(spec.schemaFile, type);
  }
  return type;
}
