import { defineConfig, kafkaEnv, logEnv, port, redisEnv, schemaRegistryEnv } from '@searchop/runtime';
import { deployedTopic, topics, type TopicSpecBase } from '@searchop/schemas';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const featureProcessorConfigSchema = defineConfig({
  ...kafkaEnv,
  ...schemaRegistryEnv,
  ...redisEnv,
  ...logEnv,
  FEATURES_GROUP_ID: z.string().min(1).default('searchop-features'),
  /** A batch is applied once it holds this many events, or its oldest waited FEATURES_BATCH_MAX_WAIT_MS. */
  FEATURES_BATCH_MAX_RECORDS: positiveInt.default(20_000),
  FEATURES_BATCH_MAX_WAIT_MS: positiveInt.default(50),
  /** Entity states kept decoded between batches (no Redis read for a key this instance wrote last); 0: none. */
  FEATURES_STATE_CACHE_ENTRIES: z.coerce.number().int().nonnegative().default(100_000),
  /**
   * Milliseconds between runs that delete idle (query, product) pairs from their query's pairs hash
   * (pair-pruner.ts); the first run one interval after the start; 0: never. At most 2^31 - 1 (a timer's limit).
   */
  FEATURES_PAIR_PRUNE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .max(2 ** 31 - 1)
    .default(6 * 60 * 60 * 1000),
  FEATURES_SESSION_TIMEOUT_MS: positiveInt.default(30_000),
  FEATURES_HEARTBEAT_INTERVAL_MS: positiveInt.default(3_000),
  FEATURES_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  METRICS_PORT: port.default(9465),
});

export type FeatureProcessorConfig = z.infer<typeof featureProcessorConfigSchema>;

/** The topics features are computed from: behaviour and the catalogue (not the ranking log). */
export function featureTopics(suffix: string): TopicSpecBase[] {
  return [topics.impressions, topics.clicks, topics.addToCarts, topics.purchases, topics.catalog].map((spec) =>
    deployedTopic(spec, suffix),
  );
}
