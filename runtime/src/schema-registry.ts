import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryEnv } from './config.ts';

/** Client of the Confluent-compatible registry API (Apicurio's ccompat in the local stack). */
export function createSchemaRegistry(env: SchemaRegistryEnv): SchemaRegistry {
  const auth =
    env.SCHEMA_REGISTRY_USERNAME && env.SCHEMA_REGISTRY_PASSWORD
      ? { auth: { username: env.SCHEMA_REGISTRY_USERNAME, password: env.SCHEMA_REGISTRY_PASSWORD } }
      : {};
  return new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL.replace(/\/$/, ''), ...auth });
}
