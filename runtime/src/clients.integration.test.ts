import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { defineConfig, kafkaEnv, loadConfig, redisEnv, schemaRegistryEnv } from './config.ts';
import { createKafka } from './kafka.ts';
import { createLogger } from './logger.ts';
import { createRedis } from './redis.ts';
import { createSchemaRegistry } from './schema-registry.ts';
import { uniqueName, waitFor } from './testing/index.ts';

const config = loadConfig(defineConfig({ ...kafkaEnv, ...redisEnv, ...schemaRegistryEnv }), {
  KAFKA_BROKERS: inject('kafkaBrokers'),
  SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
  REDIS_URL: inject('redisUrl'),
});
const logger = createLogger('test', 'warn');

describe('the chain every service stands on: registry → Kafka → registry → Redis', () => {
  const kafka = createKafka(config, logger);
  const registry = createSchemaRegistry(config);
  const redis = createRedis(config);
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true });
  const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });

  afterAll(async () => {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    redis.disconnect();
  });

  it('registers a schema, produces, consumes, decodes and stores the value in Redis', async () => {
    const topic = uniqueName('smoke');
    const subject = `${topic}-value`;
    const schema = {
      type: 'record',
      name: 'Smoke',
      namespace: 'io.searchop.test',
      fields: [
        { name: 'eventId', type: 'string' },
        { name: 'productId', type: 'string' },
        { name: 'clicks', type: 'long' },
      ],
    };
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
    expect(id).toBeGreaterThan(0);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);

    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    // Under load a new topic's leaders can take a moment to reach every metadata cache.
    await waitFor(async () => (await admin.fetchTopicOffsets(topic)).length === 3, { what: 'the topic to be served' });

    const event = { eventId: uniqueName('evt'), productId: 'p-42', clicks: 7 };
    const received: unknown[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) received.push(await registry.decode(message.value));
      },
    });

    await producer.connect();
    const encoded = await registry.encode(id, event);
    expect(encoded[0]).toBe(0); // Confluent wire format: magic byte 0, then the 4-byte schema id.
    expect(encoded.readInt32BE(1)).toBe(id);
    await producer.send({ topic, acks: -1, messages: [{ key: event.productId, value: encoded }] });

    const [decoded] = await waitFor(() => received.length > 0 && received, { what: 'the message to be consumed' });
    expect(decoded).toEqual(event);

    const key = `${uniqueName('smoke')}:${event.productId}`;
    await redis.hset(key, 'clicks', (decoded as typeof event).clicks);
    await redis.expire(key, 60);
    expect(await redis.hget(key, 'clicks')).toBe('7');
    expect(await redis.ttl(key)).toBeGreaterThan(0);
  });
});
