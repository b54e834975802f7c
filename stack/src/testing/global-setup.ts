import type { TestProject } from 'vitest/node';
import { loadStackSettings } from '../settings.ts';
import { endpointsOf, stackDown, stackUp, type StackEndpoints } from '../stack.ts';
import { startContainers } from './containers.ts';
import './services.ts';

/**
 * Integration tests run against real Kafka, Schema Registry and Redis:
 *  1. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL, when all are set, name running services;
 *  2. otherwise, where a Docker engine answers, testcontainers starts them (SEARCHOP_TEST_SERVICES=containers forces it);
 *  3. otherwise the project's own launcher starts the local stack (SEARCHOP_TEST_SERVICES=stack forces it),
 *     and stops at the end only what it started, so a developer's running stack is left alone.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { endpoints, teardown } = await provision();
  project.provide('kafkaBrokers', endpoints.kafkaBrokers);
  project.provide('schemaRegistryUrl', endpoints.schemaRegistryUrl);
  project.provide('redisUrl', endpoints.redisUrl);
  console.log(
    `integration services: kafka ${endpoints.kafkaBrokers}, registry ${endpoints.schemaRegistryUrl}, redis ${endpoints.redisUrl}`,
  );
  return teardown;
}

async function provision(): Promise<{ endpoints: StackEndpoints; teardown: () => Promise<void> }> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL, SEARCHOP_TEST_SERVICES: mode = 'auto' } = process.env;
  if (mode === 'auto' && KAFKA_BROKERS && SCHEMA_REGISTRY_URL && REDIS_URL) {
    return {
      endpoints: { kafkaBrokers: KAFKA_BROKERS, schemaRegistryUrl: SCHEMA_REGISTRY_URL, redisUrl: REDIS_URL },
      teardown: async () => undefined,
    };
  }
  if (mode === 'containers' || mode === 'auto') {
    const containers = await startContainers(mode === 'containers');
    if (containers) return containers;
  }
  const settings = loadStackSettings();
  const started = await stackUp(settings, (line) => console.log(`[stack] ${line}`));
  return {
    endpoints: endpointsOf(settings),
    teardown: async () => {
      if (started.length > 0 && process.env['SEARCHOP_KEEP_STACK'] !== '1') await stackDown(settings, started);
    },
  };
}
