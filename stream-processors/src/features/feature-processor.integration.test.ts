import { testServices, uniqueName } from '@searchop/runtime/testing';
import type { EntityState } from '@searchop/schemas';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startService, type ServiceProcess } from '../testing/child-process.ts';
import { comparable, readStates } from './testing/behaviour-stream.ts';
import {
  processorEnv as envFor,
  produceStream as produceStreamTo,
  statesUnder,
  referenceFromTopics,
  totals,
  waitForNoLag,
  type Harness,
} from './testing/processor-harness.ts';

const services = testServices(inject);
const { config, kafka, registry } = services;
const redis = services.redis();
const admin = kafka.admin();
const children: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await admin.disconnect();
  redis.disconnect();
});

const mainModule = new URL('./main.ts', import.meta.url);
const harness: Harness = { kafka, admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL };
const endpoints = {
  kafkaBrokers: config.KAFKA_BROKERS.join(','),
  schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
  redisUrl: config.REDIS_URL,
};
const produceStream = (count: number) => produceStreamTo(harness, count);
const redisStates = (keys: Iterable<string>) => readStates(redis, keys);
const processorEnv = (suffix: string, prefix: string, groupId: string) => envFor(endpoints, suffix, prefix, groupId);

describe('feature processor, exactly once under SIGKILL', () => {
  it('leaves every counter equal to the exact count from the topic after 5 SIGKILLs and restarts', async () => {
    const N = 200_000;
    const began = Date.now();
    const { suffix, specs, codec } = await produceStream(N);
    console.log(`produced ${N} events in ${Date.now() - began} ms`);
    const prefix = `${uniqueName('fp')}:`;
    const groupId = uniqueName('features');
    const env = processorEnv(suffix, prefix, groupId);
    const kills: number[] = [];
    for (let i = 0; i < 5; i++) {
      const child = startService(mainModule, env);
      children.push(child);
      // Let it join and apply some batches, then kill it at a random moment.
      const delay = 3_000 + Math.floor(Math.random() * 4_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      expect(child.child.exitCode, child.output()).toBeNull();
      await child.kill('SIGKILL');
      kills.push(delay);
    }
    const last = startService(mainModule, env);
    children.push(last);
    await waitForNoLag(
      harness,
      groupId,
      specs.map((s) => s.name),
      'the processor to catch up after the kills',
    );
    await last.kill('SIGTERM');

    const expected = await referenceFromTopics(harness, prefix, specs, codec, N);
    const actual = await redisStates(expected.keys());
    console.log(`killed at ${kills.map((ms) => `${ms} ms`).join(', ')} after each start`);
    console.table({ 'expected (from the topic)': totals(expected), 'actual (Redis)': totals(actual) });
    expect(comparable(actual)).toEqual(comparable(expected));
    // Nothing else was written under the prefix.
    // Nothing more than expected either: no other key, no other field of a pairs hash.
    expect((await statesUnder(redis, prefix)).size).toBe(expected.size);
  }, 900_000);
});

describe('feature processor, horizontal scale', () => {
  it('two instances in one group produce the same Redis state as one', async () => {
    const N = Number(process.env['SCALE_N'] ?? 60_000);
    const { suffix, specs } = await produceStream(N);
    const one = `${uniqueName('one')}:`;
    const two = `${uniqueName('two')}:`;
    const soloGroup = uniqueName('solo');
    const pairGroup = uniqueName('pair');
    const solo = startService(mainModule, processorEnv(suffix, one, soloGroup));
    const first = startService(mainModule, processorEnv(suffix, two, pairGroup));
    // The second member joins while the first is working: a rebalance mid-stream.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const second = startService(mainModule, processorEnv(suffix, two, pairGroup));
    children.push(solo, first, second);
    const names = specs.map((s) => s.name);
    await waitForNoLag(harness, soloGroup, names, 'the single instance to catch up');
    await waitForNoLag(harness, pairGroup, names, 'the two instances to catch up');
    await Promise.all([solo.kill('SIGTERM'), first.kill('SIGTERM'), second.kill('SIGTERM')]);

    const statesOne = await statesUnder(redis, one);
    const statesTwo = await statesUnder(redis, two);
    expect([...statesTwo.keys()].map((k) => k.slice(two.length)).sort()).toEqual(
      [...statesOne.keys()].map((k) => k.slice(one.length)).sort(),
    );
    const strip = (states: Map<string, EntityState>, prefix: string) =>
      new Map([...states].map(([k, v]) => [k.slice(prefix.length), v]));
    const a = comparable(strip(statesTwo, two));
    const b = comparable(strip(statesOne, one));
    const differing = Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    if (differing.length > 0)
      console.log(
        'differing keys',
        differing.length,
        differing.slice(0, 3),
        JSON.stringify(a[differing[0]!]).slice(0, 1500),
        JSON.stringify(b[differing[0]!]).slice(0, 1500),
      );
    expect(a).toEqual(b);
    expect(statesOne.size).toBeGreaterThan(100);
  }, 600_000);
});
