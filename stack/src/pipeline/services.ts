import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { endpointsOf, stackUp, type StackEndpoints } from '../stack.ts';
import { redisUrlAnswers } from '../services/redis.ts';
import type { StackSettings } from '../settings.ts';

/**
 * The Kafka, Schema Registry and Redis a pipeline run uses, in this order:
 *  1. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL, when all three are set (a shared or remote stack);
 *  2. services that already answer on the stack's endpoints (started by another checkout, say);
 *  3. otherwise the local stack, started by the launcher (installs what is missing).
 */
export async function resolveServices(
  settings: StackSettings,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<StackEndpoints> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL } = env;
  if (KAFKA_BROKERS && SCHEMA_REGISTRY_URL && REDIS_URL) {
    log(`using the services named by the environment: ${KAFKA_BROKERS}, ${SCHEMA_REGISTRY_URL}, ${REDIS_URL}`);
    return { kafkaBrokers: KAFKA_BROKERS, schemaRegistryUrl: SCHEMA_REGISTRY_URL, redisUrl: REDIS_URL };
  }
  const local = endpointsOf(settings);
  if (await servicesAnswer(local)) {
    log(`services already running: ${local.kafkaBrokers}, ${local.schemaRegistryUrl}, ${local.redisUrl}`);
    return local;
  }
  await stackUp(settings, log);
  return local;
}

/** Whether Kafka, the registry and Redis all answer a real request. */
export async function servicesAnswer(endpoints: StackEndpoints): Promise<boolean> {
  const kafka = async () => {
    const admin = new Kafka({
      clientId: 'searchop-pipeline-probe',
      brokers: endpoints.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
  const registry = async () => {
    try {
      return (
        await fetch(`${endpoints.schemaRegistryUrl.replace(/\/$/, '')}/subjects`, {
          signal: AbortSignal.timeout(3_000),
        })
      ).ok;
    } catch {
      return false;
    }
  };
  const redis = () => redisUrlAnswers(endpoints.redisUrl, 2_000);
  const answers = await Promise.all([kafka(), registry(), redis()]);
  return answers.every(Boolean);
}

/** `preferred` when nothing listens there, otherwise a free port the system picks (0 always picks one). */
export async function portOrFree(preferred: number): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  return (preferred > 0 ? await listen(preferred) : undefined) ?? (await listen(0))!;
}

/** Keys of one run in the feature store (its REDIS_KEY_PREFIX), counted with SCAN. */
export async function countKeys(redisUrl: string, prefix: string): Promise<number> {
  return forEachKeyBatch(redisUrl, prefix, async () => undefined);
}

/** Removes what one run wrote to the shared services: its topics (by suffix), consumer groups and Redis keys. */
export async function removeRunData(
  endpoints: StackEndpoints,
  run: { readonly topicSuffix: string; readonly groups: readonly string[]; readonly redisKeyPrefix: string },
): Promise<void> {
  const admin = new Kafka({
    clientId: 'searchop-pipeline-cleanup',
    brokers: endpoints.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteGroups([...run.groups]).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.endsWith(run.topicSuffix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
  await forEachKeyBatch(endpoints.redisUrl, run.redisKeyPrefix, async (client, keys) => {
    await client.unlink(...keys);
  });
}

async function forEachKeyBatch(
  redisUrl: string,
  prefix: string,
  each: (client: Redis, keys: string[]) => Promise<void>,
): Promise<number> {
  if (!/^[\w:.-]+$/.test(prefix)) throw new Error(`refusing to scan Redis with the pattern ${prefix}*`);
  const client = new Redis(redisUrl, { lazyConnect: true });
  await client.connect();
  try {
    let count = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        count += keys.length;
        await each(client, keys);
      }
    } while (cursor !== '0');
    return count;
  } finally {
    client.disconnect();
  }
}
