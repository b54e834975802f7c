import {
  createKafka,
  createLogger,
  createMetricsRegistry,
  createSchemaRegistry,
  installGracefulShutdown,
  loadConfig,
} from '@searchop/runtime';
import { EventCodec, eventTypes, deployedTopic } from '@searchop/schemas';
import { StorefrontClient } from '../sdk/storefront-client.ts';
import { buildCollectorServer } from './app.ts';
import { collectorConfigSchema, settingsFrom } from './config.ts';
import { kafkaReadiness } from './readiness.ts';

/** Composition root: config → clients → app → graceful shutdown. The only place that reads the environment. */
const config = loadConfig(collectorConfigSchema, process.env);
const logger = createLogger('collector', config.LOG_LEVEL);
const metrics = createMetricsRegistry('collector');
const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-collector`);
const registry = createSchemaRegistry(config);

// The topics the collector writes: those of the event types it takes.
const specs = Object.values(eventTypes).map((t) => deployedTopic(t, config.TOPIC_NAME_SUFFIX));
const codec = await EventCodec.connect(registry, specs);
const client = await StorefrontClient.create({
  kafka,
  codec,
  metrics,
  topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
});
const admin = kafka.admin({ retry: { retries: 0 } });
await admin.connect();

const app = await buildCollectorServer(
  {
    sink: client,
    metrics,
    clock: Date.now,
    checkReady: kafkaReadiness(admin),
    settings: settingsFrom(config),
  },
  {
    logger,
    requestTimeoutMs: config.COLLECTOR_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.COLLECTOR_KEEP_ALIVE_TIMEOUT_MS,
    trustProxy: config.COLLECTOR_TRUST_PROXY,
  },
);

// Closed in reverse: the server stops taking requests, then buffered events are flushed to Kafka.
installGracefulShutdown(logger, [
  { name: 'storefront client', close: () => client.close() },
  { name: 'kafka admin', close: () => admin.disconnect() },
  { name: 'http server', close: () => app.close() },
]);
await app.listen({ host: config.COLLECTOR_HOST, port: config.COLLECTOR_PORT });
logger.info(
  { auth: config.COLLECTOR_API_KEYS.length > 0, topicSuffix: config.TOPIC_NAME_SUFFIX || undefined },
  'collector listening',
);
