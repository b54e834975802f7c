import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import type { StackEndpoints } from '../stack.ts';

/** Same versions as the local stack (stack/kafka/pom.xml, stack/schema-registry/pom.xml, Debian's Redis 7). */
export const containerImages = {
  kafka: 'apache/kafka:3.9.1',
  schemaRegistry: 'apicurio/apicurio-registry:3.0.9',
  redis: 'redis:7.0',
} as const;

/**
 * Starts the services with testcontainers where a Docker engine answers. Returns undefined when
 * none does (unless `required`), so that the caller falls back to the project's own launcher.
 */
export async function startContainers(
  required: boolean,
): Promise<{ endpoints: StackEndpoints; teardown: () => Promise<void> } | undefined> {
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    if (required) throw error;
    return undefined;
  }
  const started: StartedTestContainer[] = [];
  const redis = await new GenericContainer(containerImages.redis).withExposedPorts(6379).start();
  started.push(redis);
  // apache/kafka: a fixed host port keeps the advertised listener equal to what clients dial.
  const kafkaPort = 39092;
  const kafka = await new GenericContainer(containerImages.kafka)
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  started.push(kafka);
  const registry = await new GenericContainer(containerImages.schemaRegistry)
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();
  started.push(registry);
  return {
    endpoints: {
      kafkaBrokers: `localhost:${kafkaPort}`,
      schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    },
    teardown: async () => {
      for (const container of started.reverse()) await container.stop();
    },
  };
}
