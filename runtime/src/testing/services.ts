import { defineConfig, kafkaEnv, loadConfig, redisEnv, schemaRegistryEnv } from '../config.ts';
import { createKafka } from '../kafka.ts';
import { createLogger } from '../logger.ts';
import { createRedis } from '../redis.ts';
import { createSchemaRegistry } from '../schema-registry.ts';

/** The services an integration run provides (stack's vitest global setup `provide`s them under these names). */
export type ServiceEndpoint = 'kafkaBrokers' | 'schemaRegistryUrl' | 'redisUrl';

/**
 * Config, a logger and clients of the integration services, as every integration test and bench
 * builds them. `env` is the environment (a bench passes process.env; unset variables take the
 * local stack's defaults). Redis connects on creation, so it is made only on `redis()`.
 */
export function serviceClients(
  env: Record<string, string | undefined>,
  { name = 'test', level = 'silent' }: { name?: string; level?: string } = {},
) {
  const config = loadConfig(defineConfig({ ...kafkaEnv, ...schemaRegistryEnv, ...redisEnv }), env);
  const logger = createLogger(name, level);
  return {
    config,
    logger,
    kafka: createKafka(config, logger),
    registry: createSchemaRegistry(config),
    redis: () => createRedis(config),
  };
}

/**
 * serviceClients() of the services the integration global setup provides; a test passes vitest's
 * `inject` (runtime does not depend on vitest): `const { config, kafka } = testServices(inject)`.
 */
export function testServices(
  inject: (endpoint: ServiceEndpoint) => string,
  options?: { name?: string; level?: string },
): ReturnType<typeof serviceClients> {
  return serviceClients(
    {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
      REDIS_URL: inject('redisUrl'),
    },
    options,
  );
}
