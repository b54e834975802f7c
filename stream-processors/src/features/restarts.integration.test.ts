import {
  createKafka,
  createRedis,
  defineConfig,
  kafkaEnv,
  loadConfig,
  redisEnv,
  type RedisClient,
} from '@searchop/runtime';
import { testServices, uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  startEphemeralKafka,
  startEphemeralRedis,
  type EphemeralKafka,
  type EphemeralRedis,
} from '@searchop/stack/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startService, type ServiceProcess } from '../testing/child-process.ts';
import { comparable, readStates } from './testing/behaviour-stream.ts';
import {
  processorEnv,
  produceStream,
  statesUnder,
  referenceFromTopics,
  totals,
  waitForNoLag,
  type Harness,
} from './testing/processor-harness.ts';

/**
 * The exactly-once acceptance beyond SIGKILL of the processor: a broker restart and a Redis restart
 * (both crashes: SIGKILL) while the processor works leave every counter equal to the exact count
 * computed independently from the topics. The processor runs under a supervisor that starts it
 * again if it exits (as an orchestrator would); how often that happened is printed.
 */
const { config: shared, logger, registry } = testServices(inject);
const mainModule = new URL('./main.ts', import.meta.url);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** Runs the processor and starts it again whenever it exits, until stopped. */
function supervise(env: Record<string, string>) {
  let current: ServiceProcess;
  let stopping = false;
  let restarts = 0;
  const outputs: string[] = [];
  const run = () => {
    current = startService(mainModule, env);
    current.child.once('exit', () => {
      outputs.push(current.output());
      if (stopping) return;
      restarts++;
      setTimeout(run, 500);
    });
  };
  run();
  const stop = async () => {
    stopping = true;
    await current.kill('SIGTERM');
  };
  cleanups.push(async () => {
    stopping = true;
    await current.kill('SIGKILL');
  });
  return { stop, restarts: () => restarts, output: () => outputs.join('\n---\n') };
}

/** Offsets the group has committed, summed over the topics' partitions (0 for none). */
async function committed({ admin }: Harness, groupId: string, topicNames: string[]): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: topicNames });
  return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function compare(
  harness: Harness,
  redis: RedisClient,
  run: Awaited<ReturnType<typeof produceStream>>,
  prefix: string,
  n: number,
) {
  const expected = await referenceFromTopics(harness, prefix, run.specs, run.codec, n);
  const actual = await readStates(redis, expected.keys());
  console.table({ 'expected (from the topic)': totals(expected), 'actual (Redis)': totals(actual) });
  expect(comparable(actual)).toEqual(comparable(expected));
  // Nothing more than expected either: no other key, no other field of a pairs hash.
  expect((await statesUnder(redis, prefix)).size).toBe(expected.size);
}

/**
 * Starts the supervised processor on the run's topics (keys under a new prefix, a new group) and waits
 * until it has committed a first batch of the stream, far from all of it: the moment to crash a service.
 */
async function startMidStream(
  harness: Harness,
  endpoints: Parameters<typeof processorEnv>[0],
  run: Awaited<ReturnType<typeof produceStream>>,
  n: number,
  tag: string,
  crash: string,
) {
  const prefix = `${uniqueName(tag)}:`;
  const groupId = uniqueName('features');
  const processor = supervise(processorEnv(endpoints, run.suffix, prefix, groupId));
  const names = run.specs.map((s) => s.name);
  await waitFor(async () => (await committed(harness, groupId, names)) > 0, {
    timeoutMs: 300_000,
    what: 'a first batch committed',
  });
  const before = await committed(harness, groupId, names);
  console.log(`committed before the ${crash}: ${before} of ${n} events`);
  expect(before).toBeLessThan(n);
  return { processor, prefix, groupId };
}

describe('feature processor, exactly once across restarts of its services', () => {
  it('a broker crash and restart mid-stream leaves every counter exact', async () => {
    const broker: EphemeralKafka = await startEphemeralKafka();
    cleanups.push(() => broker.destroy());
    const kafka = createKafka(loadConfig(defineConfig(kafkaEnv), { KAFKA_BROKERS: broker.brokers }), logger);
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    const redis = createRedis(shared);
    cleanups.push(async () => redis.disconnect());
    const harness: Harness = { kafka, admin, registry, registryUrl: shared.SCHEMA_REGISTRY_URL };
    const N = 60_000;
    const run = await produceStream(harness, N);
    // Mid-stream: some batches applied and committed, far from all.
    const { processor, prefix, groupId } = await startMidStream(
      harness,
      { kafkaBrokers: broker.brokers, schemaRegistryUrl: shared.SCHEMA_REGISTRY_URL, redisUrl: shared.REDIS_URL },
      run,
      N,
      'fpb',
      'broker crash',
    );
    await admin.disconnect();
    await broker.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await broker.start();
    await admin.connect();
    await waitForNoLag(
      harness,
      groupId,
      run.specs.map((s) => s.name),
      'the processor to catch up after the broker restart',
    );
    await processor.stop();
    console.log(`processor restarts by the supervisor: ${processor.restarts()}`);
    await compare(harness, redis, run, prefix, N);
  }, 900_000);

  it('a Redis crash and restart mid-stream leaves every counter exact (appendfsync always)', async () => {
    const server: EphemeralRedis = await startEphemeralRedis();
    cleanups.push(() => server.destroy());
    const kafka = createKafka(shared, logger);
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    const harness: Harness = { kafka, admin, registry, registryUrl: shared.SCHEMA_REGISTRY_URL };
    const N = 60_000;
    const run = await produceStream(harness, N);
    const { processor, prefix, groupId } = await startMidStream(
      harness,
      {
        kafkaBrokers: shared.KAFKA_BROKERS.join(','),
        schemaRegistryUrl: shared.SCHEMA_REGISTRY_URL,
        redisUrl: server.url,
      },
      run,
      N,
      'fpr',
      'Redis crash',
    );
    await server.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.start();
    await waitForNoLag(
      harness,
      groupId,
      run.specs.map((s) => s.name),
      'the processor to catch up after the Redis restart',
    );
    await processor.stop();
    console.log(`processor restarts by the supervisor: ${processor.restarts()}`);
    const redis = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: server.url }));
    cleanups.push(async () => redis.disconnect());
    await compare(harness, redis, run, prefix, N);
  }, 900_000);
});
