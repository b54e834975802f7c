import {
  createKafka,
  createLogger,
  createMetricsRegistry,
  createRedis,
  createSchemaRegistry,
  installGracefulShutdown,
  loadConfig,
} from '@searchop/runtime';
import { EventCodec, deployedTopic, topics } from '@searchop/schemas';
import { rankerConfigSchema, settingsFrom } from './config.ts';
import { KafkaRankingSink } from './feature-log/kafka-sink.ts';
import { startRankerService } from './service.ts';

/** Composition root: config → clients → service → graceful shutdown. The only place that reads the environment. */
const config = loadConfig(rankerConfigSchema, process.env);
const logger = createLogger('ranker', config.LOG_LEVEL);
const registry = createMetricsRegistry('ranker');
const redis = createRedis(config, {
  // Commands a stalled Redis never answers are dropped after a while, so they cannot pile up in
  // memory; requests themselves stop waiting at RANKER_FEATURE_TIMEOUT_MS.
  commandTimeout: Math.max(1_000, 10 * config.RANKER_FEATURE_TIMEOUT_MS),
});
// ioredis reports connection errors as events; the breaker and /ready already account for them.
redis.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-ranker`);
const schemaRegistry = createSchemaRegistry(config);
const spec = deployedTopic(topics.rankingLog, config.TOPIC_NAME_SUFFIX);

const service = await startRankerService({
  redis,
  redisKeyPrefix: config.REDIS_KEY_PREFIX,
  models: {
    root: config.MODEL_REGISTRY_ROOT,
    pollIntervalMs: config.MODEL_POLL_INTERVAL_MS,
    intraOpThreads: config.RANKER_ONNX_INTRA_OP_THREADS,
  },
  featureStore: {
    timeoutMs: config.RANKER_FEATURE_TIMEOUT_MS,
    failures: config.RANKER_BREAKER_FAILURES,
    halfOpenAfterMs: config.RANKER_BREAKER_HALF_OPEN_MS,
  },
  featureLog: config.RANKER_FEATURE_LOG_ENABLED
    ? {
        sink: new KafkaRankingSink(kafka, () => EventCodec.connect(schemaRegistry, [spec]), spec),
        capacityBytes: config.RANKER_FEATURE_LOG_BUFFER_BYTES,
        batchSize: config.RANKER_FEATURE_LOG_BATCH,
      }
    : undefined,
  settings: settingsFrom(config),
  server: {
    logger,
    requestTimeoutMs: config.RANKER_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.RANKER_KEEP_ALIVE_TIMEOUT_MS,
    trustProxy: config.RANKER_TRUST_PROXY,
  },
  registry,
  logger,
  serverTiming: config.RANKER_SERVER_TIMING,
});

// Closed in reverse: the server stops taking requests, the feature log is flushed, then Redis.
installGracefulShutdown(logger, [
  {
    name: 'redis',
    close: async () => {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  },
  { name: 'ranker', close: () => service.close() },
]);
await service.app.listen({ host: config.RANKER_HOST, port: config.RANKER_PORT });
logger.info(
  {
    modelVersion: service.models.version ?? null,
    auth: config.RANKER_API_KEYS.length > 0,
    featureLog: config.RANKER_FEATURE_LOG_ENABLED ? spec.name : false,
  },
  'ranker listening',
);
