import { defineConfig, kafkaEnv, logEnv, port, schemaRegistryEnv } from '@searchop/runtime';
import { deployedTopic, topics, type TopicSpecBase } from '@searchop/schemas';
import { z } from 'zod';

const topicIds = Object.values(topics).map((t) => t.id) as [string, ...string[]];
const positiveInt = z.coerce.number().int().positive();

export const compactorConfigSchema = defineConfig({
  ...kafkaEnv,
  ...schemaRegistryEnv,
  ...logEnv,
  /** Root directory of the offline store (Hive layout beneath it). */
  OFFLINE_STORE_ROOT: z.string().min(1).default('./offline-store'),
  COMPACTOR_GROUP_ID: z.string().min(1).default('searchop-compactor'),
  /** Comma-separated topic ids to compact; all topics of the registry by default. */
  COMPACTOR_TOPICS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(z.enum(topicIds)).min(1))
    .default(topicIds),
  /** A batch is written once it holds this many events... */
  COMPACTOR_FLUSH_MAX_RECORDS: positiveInt.default(200_000),
  /** ...or this many bytes of encoded events... */
  COMPACTOR_FLUSH_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** ...or its oldest event waited this long: the store's freshness, and how many files an hour gets. */
  COMPACTOR_FLUSH_INTERVAL_MS: positiveInt.default(300_000),
  COMPACTOR_SESSION_TIMEOUT_MS: positiveInt.default(30_000),
  COMPACTOR_HEARTBEAT_INTERVAL_MS: positiveInt.default(3_000),
  /** Time allowed on SIGTERM to write and commit what is gathered. */
  COMPACTOR_SHUTDOWN_TIMEOUT_MS: positiveInt.default(60_000),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  METRICS_PORT: port.default(9464),
});

export type CompactorConfig = z.infer<typeof compactorConfigSchema>;

/** The topic specs to compact, named as this deployment names them. */
export function compactedTopics(
  config: Pick<CompactorConfig, 'COMPACTOR_TOPICS' | 'TOPIC_NAME_SUFFIX'>,
): TopicSpecBase[] {
  return Object.values(topics)
    .filter((spec) => config.COMPACTOR_TOPICS.includes(spec.id))
    .map((spec) => deployedTopic<TopicSpecBase>(spec, config.TOPIC_NAME_SUFFIX));
}
