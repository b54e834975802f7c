#!/usr/bin/env node
import {
  createKafka,
  createLogger,
  createSchemaRegistry,
  defineConfig,
  isSearchOpError,
  kafkaEnv,
  loadConfig,
  logEnv,
  schemaRegistryEnv,
} from '@searchop/runtime';
import { provision } from './provision.ts';
import { deployedTopic, topics } from './topics.ts';

/** `npm run provision`: creates the topics of the registry and registers their schemas (BACKWARD). */
async function main(): Promise<void> {
  const config = loadConfig(defineConfig({ ...kafkaEnv, ...schemaRegistryEnv, ...logEnv }), process.env);
  const logger = createLogger('provision', config.LOG_LEVEL);
  const admin = createKafka(config, logger).admin();
  await admin.connect();
  try {
    const auth =
      config.SCHEMA_REGISTRY_USERNAME && config.SCHEMA_REGISTRY_PASSWORD
        ? { registryAuth: { username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD } }
        : {};
    const report = await provision({
      admin,
      registry: createSchemaRegistry(config),
      registryUrl: config.SCHEMA_REGISTRY_URL,
      specs: Object.values(topics).map((t) => deployedTopic(t, config.TOPIC_NAME_SUFFIX)),
      ...auth,
    });
    for (const t of report.created) console.log(`created topic ${t}`);
    for (const t of report.existing) console.log(`topic exists  ${t}`);
    for (const d of report.partitionDrift)
      console.log(`WARNING ${d.topic} has ${d.actual} partitions, the registry says ${d.expected} (not changed)`);
    for (const s of report.schemas) console.log(`schema ${s.subject} id ${s.id} (BACKWARD)`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(isSearchOpError(error) ? `error ${error.code}: ${error.message}` : error);
  process.exit(1);
});
