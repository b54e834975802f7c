import { testServices, uniqueName } from '@searchop/runtime/testing';
import { EventCodec, provision, topics, type TopicSpecBase, deployedTopic } from '@searchop/schemas';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StorefrontClient } from '../sdk/storefront-client.ts';
import { textRanker } from './rankers/in-process.ts';
import { referenceProblems } from './references.ts';
import { runSimulation } from './simulator.ts';
import { storefrontSink } from './sinks/kafka-sink.ts';
import { MemorySink, type EventSink } from './sinks/sink.ts';
import { consumeEvents, countByType, inEventTimeOrder, reportOf, runCli } from './test-support.ts';
import { generateWorld } from './world/generate.ts';

const { config, registry, kafka } = testServices(inject);

/** This test's own topics: the registry's, under a unique prefix (subjects and schemas unchanged). */
async function ownTopics(suffix: string): Promise<{ specs: TopicSpecBase[]; codec: EventCodec }> {
  const specs = Object.values(topics).map((t) => deployedTopic(t, suffix));
  const admin = kafka.admin();
  await admin.connect();
  await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
  await admin.disconnect();
  return { specs, codec: await EventCodec.connect(registry, specs) };
}

describe('the simulator into Kafka', () => {
  let client: StorefrontClient;
  let specs: TopicSpecBase[];
  let codec: EventCodec;

  beforeAll(async () => {
    ({ specs, codec } = await ownTopics(`.${uniqueName('sim')}`));
    client = await StorefrontClient.create({
      kafka,
      codec,
      topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
    });
  });
  afterAll(() => client.close());

  it('writes exactly what it reports, per type, keyed as the topic registry says, with consistent references', async () => {
    const world = generateWorld({ seed: 8, products: 150, queries: 40 });
    const kept = new MemorySink();
    const kafkaSink = storefrontSink(client);
    const tee: EventSink = {
      emit: async (event) => {
        const outcome = await kafkaSink.emit(event);
        await kept.emit(event);
        return outcome;
      },
      flush: () => kafkaSink.flush(),
    };
    const report = await runSimulation({
      world,
      ranker: textRanker(),
      sink: tee,
      seed: 77,
      shoppers: 50,
      rate: 20,
      clock: { kind: 'simulated', startMs: Date.parse('2025-02-01T00:00:00Z') },
      maxEvents: 1_500,
    });
    expect(report.stoppedBy).toBe('events');
    expect(report.counts.product_change).toBe(150);
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(1_650);

    const received = await consumeEvents(kafka, codec, specs, total, uniqueName('sim-check'));
    expect(received).toHaveLength(total);
    expect(countByType(received.map((r) => r.event))).toEqual(report.counts);
    for (const { key, event } of received)
      expect(key).toBe(event.type === 'product_change' ? event.event.product_id : event.event.session_id);
    const sent = new Map(kept.events.map((e) => [e.event.event_id, e]));
    for (const { event } of received) expect(event).toEqual(sent.get(event.event.event_id));
    expect(referenceProblems(inEventTimeOrder(received.map((r) => r.event)))).toEqual([]);
  });

  it('from the command line, writes into the topics named with TOPIC_NAME_SUFFIX what it reports', async () => {
    const suffix = `.${uniqueName('sim-cli')}`;
    const own = await ownTopics(suffix);
    const { code, stdout, stderr } = await runCli(
      [
        '--products',
        '120',
        '--queries',
        '30',
        '--seed',
        '9',
        '--clock',
        'simulated',
        '--events',
        '600',
        '--ranker',
        'random',
      ],
      {
        KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
        SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
        TOPIC_NAME_SUFFIX: suffix,
      },
    );
    expect(code, stderr).toBe(0);
    const report = reportOf(stdout);
    expect(report['stopped_by']).toBe('events');
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(720);
    const received = await consumeEvents(kafka, own.codec, own.specs, total, uniqueName('sim-cli-check'));
    expect(countByType(received.map((r) => r.event))).toEqual(report.counts);
    expect(referenceProblems(inEventTimeOrder(received.map((r) => r.event)))).toEqual([]);
  });
});
