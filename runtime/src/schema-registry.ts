import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TimeoutMiddleware } from 'mappersmith/middleware/timeout';
import type { SchemaRegistryEnv } from './config.ts';

/**
 * How long one registry request may take unless SCHEMA_REGISTRY_TIMEOUT_MS says otherwise. The client
 * sends requests without a timeout by default, so a registry that accepts a connection and never
 * answers would stall a producer's start or a provisioning run for ever instead of failing with an
 * error that names the subject.
 */
export const SCHEMA_REGISTRY_TIMEOUT_MS = 15_000;

/** The registry client takes mappersmith's CommonJS middleware type; the import resolves the ESM one. */
type RegistryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/** Client of the Confluent-compatible registry API (Apicurio's ccompat in the local stack). */
export function createSchemaRegistry(env: SchemaRegistryEnv): SchemaRegistry {
  const timeoutMs = env.SCHEMA_REGISTRY_TIMEOUT_MS ?? SCHEMA_REGISTRY_TIMEOUT_MS;
  const auth =
    env.SCHEMA_REGISTRY_USERNAME && env.SCHEMA_REGISTRY_PASSWORD
      ? { auth: { username: env.SCHEMA_REGISTRY_USERNAME, password: env.SCHEMA_REGISTRY_PASSWORD } }
      : {};
  return new SchemaRegistry({
    host: env.SCHEMA_REGISTRY_URL.replace(/\/$/, ''),
    middlewares: [TimeoutMiddleware(timeoutMs) as unknown as RegistryMiddleware],
    ...auth,
  });
}
