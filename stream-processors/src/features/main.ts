import {
  createKafka,
  createLogger,
  createMetricsRegistry,
  createRedis,
  createSchemaRegistry,
  installGracefulShutdown,
  loadConfig,
} from '@searchop/runtime';
import { EventCodec, keyLayout } from '@searchop/schemas';
import { DeadLetterPublisher } from '../consumer/dead-letter.ts';
import { runConsumer, type ConsumerRunner } from '../consumer/run-consumer.ts';
import { serveMetrics } from '../consumer/serve-metrics.ts';
import { featureProcessorConfigSchema, featureTopics } from './config.ts';
import { FeatureWriter } from './feature-writer.ts';
import { featureHandler } from './handler.ts';
import { PairPruner, schedulePairPruning } from './pair-pruner.ts';

const config = loadConfig(featureProcessorConfigSchema, process.env);
const logger = createLogger('feature-processor', config.LOG_LEVEL);
const specs = featureTopics(config.TOPIC_NAME_SUFFIX);
const metrics = createMetricsRegistry('feature-processor');

// Health answers before the consumer has joined (probes start at once); it turns healthy once joined.
const consumer: { runner?: ConsumerRunner } = {};
const server = await serveMetrics({
  registry: metrics,
  healthy: () => consumer.runner?.healthy() ?? false,
  host: config.METRICS_HOST,
  port: config.METRICS_PORT,
});
logger.info({ port: server.port }, 'metrics and health listening');

const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-features`);
const redis = createRedis(config);
const codec = await EventCodec.connect(createSchemaRegistry(config), specs);
const layout = keyLayout(config.REDIS_KEY_PREFIX);
const writer = new FeatureWriter(redis, layout, {
  stateCacheEntries: config.FEATURES_STATE_CACHE_ENTRIES,
});
// Idle pairs leave their query's pairs hash (its key's TTL is renewed by any of its pairs' writes).
const pruner = new PairPruner(redis, layout);
const pairPruning = schedulePairPruning({
  intervalMs: config.FEATURES_PAIR_PRUNE_INTERVAL_MS,
  prune: (signal) => pruner.prune({ nowMs: Date.now(), signal }),
  logger,
  metrics,
});
const deadLetters = await DeadLetterPublisher.create(kafka);
const running = await runConsumer({
  kafka,
  codec,
  logger,
  metrics,
  groupId: config.FEATURES_GROUP_ID,
  specs,
  deadLetters,
  // Redis, not the committed offset, is the source of truth: the fences make redelivery harmless.
  handle: featureHandler({ writer, metrics }),
  batch: { maxRecords: config.FEATURES_BATCH_MAX_RECORDS, maxWaitMs: config.FEATURES_BATCH_MAX_WAIT_MS },
  sessionTimeoutMs: config.FEATURES_SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: config.FEATURES_HEARTBEAT_INTERVAL_MS,
});
consumer.runner = running;

installGracefulShutdown(
  logger,
  [
    { name: 'redis', close: async () => void (await redis.quit()) },
    { name: 'pair pruning', close: () => pairPruning.stop() },
    { name: 'dead-letter producer', close: () => deadLetters.close() },
    { name: 'consumer', close: () => running.stop() },
    { name: 'metrics server', close: () => server.close() },
  ],
  config.FEATURES_SHUTDOWN_TIMEOUT_MS,
);
running.done.catch((error: unknown) =>
  setImmediate(() => {
    throw error;
  }),
);
logger.info({ topics: specs.map((s) => s.name), groupId: config.FEATURES_GROUP_ID }, 'feature processor running');
