import {
  createKafka,
  createLogger,
  createMetricsRegistry,
  createSchemaRegistry,
  installGracefulShutdown,
  loadConfig,
} from '@searchop/runtime';
import { EventCodec } from '@searchop/schemas';
import { DeadLetterPublisher } from '../consumer/dead-letter.ts';
import { runConsumer } from '../consumer/run-consumer.ts';
import { serveMetrics } from '../consumer/serve-metrics.ts';
import { Compactor } from './compactor.ts';
import { compactedTopics, compactorConfigSchema } from './config.ts';
import { OfflineStore } from './offline-store.ts';

const config = loadConfig(compactorConfigSchema, process.env);
const logger = createLogger('compactor', config.LOG_LEVEL);
const specs = compactedTopics(config);
const metrics = createMetricsRegistry('compactor');

// Metrics and health answer from the start; health turns 200 once the runner has joined its group.
let healthy = (): boolean => false;
const server = await serveMetrics({
  registry: metrics,
  healthy: () => healthy(),
  host: config.METRICS_HOST,
  port: config.METRICS_PORT,
});
logger.info({ port: server.port }, 'metrics and health listening');

const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-compactor`);
const codec = await EventCodec.connect(createSchemaRegistry(config), specs);
const store = await OfflineStore.open(
  config.OFFLINE_STORE_ROOT,
  specs.map((s) => s.id),
  logger,
);
const compactor = new Compactor(store, specs);
const deadLetters = await DeadLetterPublisher.create(kafka);
const runner = await runConsumer({
  kafka,
  codec,
  logger,
  metrics,
  groupId: config.COMPACTOR_GROUP_ID,
  specs,
  deadLetters,
  handle: (events) => compactor.handle(events),
  resumeFrom: async (spec, partition) => compactor.resumeFrom(spec, partition),
  batch: {
    maxRecords: config.COMPACTOR_FLUSH_MAX_RECORDS,
    maxBytes: config.COMPACTOR_FLUSH_MAX_BYTES,
    maxWaitMs: config.COMPACTOR_FLUSH_INTERVAL_MS,
  },
  sessionTimeoutMs: config.COMPACTOR_SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: config.COMPACTOR_HEARTBEAT_INTERVAL_MS,
});
healthy = () => runner.healthy();

// Closed in reverse: the server stops answering, the consumer writes and commits what it gathered, then the DLQ producer.
installGracefulShutdown(
  logger,
  [
    { name: 'dead-letter producer', close: () => deadLetters.close() },
    { name: 'consumer', close: () => runner.stop() },
    { name: 'metrics server', close: () => server.close() },
  ],
  config.COMPACTOR_SHUTDOWN_TIMEOUT_MS,
);
// A runner that gave up ends the process through the same graceful path, exiting non-zero.
runner.done.catch((error: unknown) =>
  setImmediate(() => {
    throw error;
  }),
);
logger.info(
  { root: store.root, topics: specs.map((s) => s.name), groupId: config.COMPACTOR_GROUP_ID },
  'compactor running',
);
