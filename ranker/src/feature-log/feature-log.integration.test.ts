import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '@searchop/runtime';
import { testServices, uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  EventCodec,
  FEATURE_NAMES,
  FEATURE_SPEC_VERSION,
  deployedTopic,
  provision,
  topics,
  type RankingLog,
} from '@searchop/schemas';
import { startEphemeralKafka, type EphemeralKafka } from '@searchop/stack/testing';
import { TestRegistry, leaf, specModel, split } from '../testing/model-files.ts';
import { startTestRanker, type TestRanker } from '../testing/harness.ts';
import { KafkaRankingSink } from './kafka-sink.ts';

const { config, logger, kafka: sharedKafka, registry: schemaRegistry } = testServices(inject);
const MODEL = specModel([split('retrieval_score', 5, leaf(0), leaf(1)), split('text_bm25', 0.1, leaf(0), leaf(0.25))]);

interface RankBody {
  request_id: string;
  model_version: number | null;
  degraded: boolean;
  results: { product_id: string; score: number | null; position: number; features: Record<string, number | null> }[];
}

/** A topic of the test's own with the feature log's schema, provisioned on `kafka`. */
async function ownTopic(kafka: Kafka) {
  const spec = deployedTopic(topics.rankingLog, `.${uniqueName('test')}`);
  const admin = kafka.admin();
  await admin.connect();
  await provision({ admin, registry: schemaRegistry, registryUrl: config.SCHEMA_REGISTRY_URL, specs: [spec] });
  await admin.disconnect();
  return spec;
}

/** Reads every record of the topic from the start, decoded with the codec, keyed by request id. */
async function consume(kafka: Kafka, spec: typeof topics.rankingLog) {
  const codec = await EventCodec.connect(schemaRegistry, [spec]);
  const records = new Map<string, { key: string; value: RankingLog }>();
  const consumer = kafka.consumer({ groupId: uniqueName('ranking-log-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [spec.name], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = await codec.decode(spec, message.value!);
      records.set(value.request_id, { key: message.key!.toString(), value });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

async function rank(ranker: TestRanker, body: object): Promise<RankBody> {
  const response = await ranker.service.app.inject({ method: 'POST', url: '/rank?explain=true', payload: body });
  expect(response.statusCode).toBe(200);
  return response.json<RankBody>();
}

describe('the feature log', () => {
  let models: TestRegistry;
  beforeAll(async () => {
    models = await TestRegistry.create();
    await models.publish(3, MODEL);
    await models.point(3);
  });
  afterAll(() => models.destroy());

  it('writes every ranking to Kafka with the served vectors, positions, model version and request id', async () => {
    const kafka = sharedKafka;
    const spec = await ownTopic(kafka);
    const ranker = await startTestRanker({
      redisUrl: inject('redisUrl'),
      keyPrefix: `${uniqueName('flog')}:`,
      registryRoot: models.root,
      featureLog: new KafkaRankingSink(kafka, () => EventCodec.connect(schemaRegistry, [spec]), spec),
    });
    const reader = await consume(kafka, spec);
    try {
      const answers: RankBody[] = [];
      for (let i = 0; i < 25; i++) {
        answers.push(
          await rank(ranker, {
            query: `cordless drill ${i}`,
            candidates: [
              { product_id: `a${i}`, retrieval_score: i % 10 },
              `b${i}`,
              { product_id: `c${i}`, retrieval_score: 7 },
            ],
            session_id: `s-${i}`,
            ...(i % 2 === 0 ? { user_id: `u-${i}` } : {}),
            ...(i % 5 === 0 ? { limit: 2 } : {}),
          }),
        );
      }
      await waitFor(() => reader.records.size === answers.length, {
        what: 'every ranking in the topic',
        timeoutMs: 60_000,
      });
      for (const [i, answer] of answers.entries()) {
        const { key, value } = reader.records.get(answer.request_id)!;
        expect(key).toBe(answer.request_id);
        expect(value).toMatchObject({
          request_id: answer.request_id,
          query: `cordless drill ${i}`,
          normalized_query: `cordless drill ${i}`,
          session_id: `s-${i}`,
          user_id: i % 2 === 0 ? `u-${i}` : null,
          model_version: 3,
          feature_spec_version: FEATURE_SPEC_VERSION,
          degraded: false,
          degraded_reason: null,
        });
        expect(value.items.map((it) => [it.product_id, it.position, it.score])).toEqual(
          answer.results.map((r) => [r.product_id, r.position, r.score]),
        );
        for (const [n, item] of value.items.entries()) {
          const served = FEATURE_NAMES.map((name) => answer.results[n]!.features[name] ?? Number.NaN);
          expect(item.features).toEqual(served);
        }
      }
      expect((await ranker.service.app.inject('/metrics')).body).toContain('feature_log_sent_total 25');

      // Three rankings of 1,000 candidates (about 0.5 MB each) exceed one Kafka request: they are split.
      const large = await Promise.all(
        [0, 1, 2].map((n) =>
          rank(ranker, { query: `large ${n}`, candidates: Array.from({ length: 1_000 }, (_, i) => `l${n}-${i}`) }),
        ),
      );
      await waitFor(() => large.every((a) => reader.records.get(a.request_id)?.value.items.length === 1_000), {
        what: 'the large rankings in the topic',
        timeoutMs: 60_000,
      });
    } finally {
      await ranker.close();
      await reader.stop();
    }
  });
});

describe('the feature log while Kafka is down', () => {
  let models: TestRegistry;
  let broker: EphemeralKafka;
  beforeAll(async () => {
    models = await TestRegistry.create();
    await models.publish(3, MODEL);
    await models.point(3);
    // A broker of the test's own, to stop; it takes a while to start, so it starts here, not in the test.
    broker = await startEphemeralKafka();
  });
  afterAll(async () => {
    await broker?.destroy();
    await models?.destroy();
  });

  it(
    'drops rankings under back-pressure while Kafka is down, never failing or degrading an answer, and resumes',
    { timeout: 300_000 },
    async () => {
      const kafka = createKafka({ ...config, KAFKA_BROKERS: [broker.brokers] }, logger);
      const spec = await ownTopic(kafka);
      const ranker = await startTestRanker({
        redisUrl: inject('redisUrl'),
        keyPrefix: `${uniqueName('flog-down')}:`,
        registryRoot: models.root,
        // About 20 rankings of two candidates.
        featureLogCapacityBytes: 35_000,
        featureLog: new KafkaRankingSink(kafka, () => EventCodec.connect(schemaRegistry, [spec]), spec),
      });
      const metric = async (name: string) => {
        const line = (await ranker.service.app.inject('/metrics')).body.split('\n').find((l) => l.startsWith(name));
        return line === undefined ? 0 : Number(line.split(' ').at(-1));
      };
      try {
        await rank(ranker, { query: 'before', candidates: ['a'] });
        await waitFor(async () => (await metric('feature_log_sent_total')) === 1, { what: 'the first ranking logged' });

        // A clean broker shutdown: a restart after SIGKILL waits out the dead broker's session first.
        await broker.stop();
        const during: RankBody[] = [];
        for (let i = 0; i < 200; i++) during.push(await rank(ranker, { query: `during ${i}`, candidates: ['a', 'b'] }));
        expect(during.every((a) => !a.degraded && a.model_version === 3)).toBe(true);
        await waitFor(async () => (await metric('feature_log_dropped_total{reason="buffer_full"}')) > 0, {
          what: 'drops under back-pressure',
        });
        expect(ranker.service.featureLog!.buffered).toBeLessThanOrEqual(20);

        // Back: a ranking served now is logged without any further traffic (the drain retries the
        // buffered batch with a new producer until Kafka answers, then sends what came after it).
        await broker.start();
        const after = await rank(ranker, { query: 'after', candidates: ['a', 'b'] });
        expect(after.degraded).toBe(false);
        expect(after.model_version).toBe(3);
        const reader = await consume(kafka, spec);
        try {
          await waitFor(() => reader.records.has(after.request_id), { what: 'logging to resume', timeoutMs: 150_000 });
          const logged = reader.records.get(after.request_id)!.value;
          expect(logged.query).toBe('after');
          expect(logged.items.map((item) => item.product_id)).toEqual(after.results.map((r) => r.product_id));
        } finally {
          await reader.stop();
        }
        expect(await metric('feature_log_sent_total')).toBeGreaterThanOrEqual(2);
      } finally {
        await ranker.close();
      }
    },
  );
});
