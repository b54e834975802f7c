import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, provision, SchemaErrorCode, type TopicSpec, type TopicSpecBase } from '@searchop/schemas';
import type { Admin, IHeaders, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterPublisher, deadLetterOrigin } from '../consumer/dead-letter.ts';
import { StreamProcessorErrorCode } from '../consumer/errors.ts';
import type { BatchLimits } from '../consumer/pending-batch.ts';
import type { ConsumerRunner } from '../consumer/run-consumer.ts';
import { serveMetrics, type MetricsServer } from '../consumer/serve-metrics.ts';
import {
  compareWithKafka,
  duckdb,
  formatComparison,
  matches,
  ownTopics,
  sampleEvent,
  startCompactor,
  storedRowsPerPartition,
  storeTable,
  testServices,
} from './test-support.ts';

const services = testServices();
const { config, kafka, registry } = services;

describe('the compactor against the shared Kafka and registry', () => {
  const { specs } = ownTopics('compactor');
  const spec = (id: string) => specs.find((s) => s.id === id) as TopicSpecBase;
  const metrics = new Registry();
  let root: string;
  let admin: Admin;
  let producer: Producer;
  let codec: EventCodec;
  let deadLetters: DeadLetterPublisher;
  let runner: ConsumerRunner;
  let server: MetricsServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'offline-store-'));
    admin = kafka.admin();
    await admin.connect();
    await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
    codec = await EventCodec.connect(registry, specs);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    deadLetters = await DeadLetterPublisher.create(kafka);
    runner = await startCompactor({
      services,
      codec,
      deadLetters,
      specs,
      root,
      groupId: uniqueName('compactor-group'),
      metrics,
      batch: { maxRecords: 2_000, maxWaitMs: 300 },
    });
    server = await serveMetrics({ registry: metrics, healthy: () => runner.healthy(), host: '127.0.0.1', port: 0 });
    await runner.joined;
  });

  afterAll(async () => {
    await runner?.stop();
    await Promise.allSettled([server?.close(), deadLetters?.close(), producer?.disconnect(), admin?.disconnect()]);
    await rm(root, { recursive: true, force: true });
  });

  async function encode(topicId: string, value: unknown): Promise<Buffer> {
    return codec.encode(spec(topicId) as TopicSpec<unknown>, value);
  }

  it('dead-letters each kind of poison with its source and reason, and writes the valid records around it', async () => {
    const clicks = spec('clicks');
    const session = uniqueName('s');
    const now = Date.now();
    const valid = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const event = sampleEvent('clicks', i, now + i, session) as { event_id: string };
        return { event, bytes: await encode('clicks', event) };
      }),
    );
    const good = await encode('clicks', sampleEvent('clicks', 9, now, session));
    const unknownSchemaId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), good.subarray(5)]);
    const corrupt = good.subarray(0, 12);
    const invalid = await encode('clicks', {
      ...(sampleEvent('clicks', 10, now, session) as object),
      occurred_at: 1_700,
    });
    const poison = [
      { value: Buffer.from('{"not":"avro"}'), code: SchemaErrorCode.BAD_MAGIC_BYTE },
      { value: unknownSchemaId, code: SchemaErrorCode.UNKNOWN_SCHEMA_ID },
      { value: corrupt, code: SchemaErrorCode.CORRUPT_PAYLOAD },
      { value: invalid, code: StreamProcessorErrorCode.INVALID_EVENT },
    ];
    // valid, poison, valid, poison, ... on one partition (one key), so each poison record sits between valid ones.
    const values = valid.flatMap((v, i) => (poison[i] ? [v.bytes, poison[i].value] : [v.bytes]));
    const [sent] = await producer.send({
      topic: clicks.name,
      acks: -1,
      messages: values.map((value) => ({ key: session, value, headers: { origin: 'test' } })),
    });
    const partition = sent!.partition;
    const base = Number(sent!.baseOffset);

    const letters = await readAll(clicks.dlq, poison.length);
    expect(letters.map((l) => l.value)).toEqual(poison.map((p) => p.value));
    const origins = letters.map((l) => deadLetterOrigin(l.headers));
    expect(origins.map((o) => o?.code)).toEqual(poison.map((p) => p.code));
    for (const [i, origin] of origins.entries()) {
      expect(origin).toMatchObject({
        sourceTopic: clicks.name,
        sourcePartition: partition,
        sourceOffset: String(base + 2 * i + 1),
      });
      expect(Date.parse(origin!.failedAt)).toBeGreaterThanOrEqual(now - 60_000);
      expect(origin!.reason.length).toBeGreaterThan(10);
    }
    expect(origins[3]?.reason).toMatch(/^occurred_at: 1700 is before/);
    expect(letters[0]?.headers['origin']?.toString()).toBe('test');

    const rows = await waitFor(
      async () => {
        const r = await duckdb<{ event_id: string; kafka_offset: bigint }>(
          `SELECT event_id, kafka_offset FROM ${storeTable(root, 'clicks')} WHERE session_id = '${session}' ORDER BY kafka_offset`,
        ).catch(() => []);
        return r.length === valid.length && r;
      },
      { what: 'the five valid clicks in the store' },
    );
    expect(rows.map((r) => r.event_id)).toEqual(valid.map((v) => v.event.event_id));
    expect(rows.map((r) => Number(r.kafka_offset))).toEqual([0, 2, 4, 6, 8].map((k) => base + k));

    const text = await waitFor(async () => {
      const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      return body.includes(`searchop_consumer_records_total{topic="${clicks.name}",outcome="dead_lettered"`) && body;
    });
    for (const { code } of poison) {
      expect(text).toMatch(
        new RegExp(`searchop_consumer_dead_letters_total\\{topic="${escape(clicks.name)}",code="${code}"\\} 1`),
      );
    }
  });

  it('writes every topic as Parquet that DuckDB reads with the right types, with row counts equal to Kafka offsets', async () => {
    const hour = 3_600_000;
    const start = Math.floor(Date.now() / hour) * hour - 3 * hour;
    const volumes: Record<string, number> = {
      impressions: 600,
      clicks: 900,
      'add-to-carts': 300,
      purchases: 200,
      catalog: 250,
    };
    // Topics the registry gains later are compacted too: give them a volume of their own.
    const counts = Object.fromEntries(specs.map((s) => [s.id, volumes[s.id] ?? 300]));
    const produced = new Map<string, unknown[]>();
    for (const [topicId, count] of Object.entries(counts)) {
      const events = Array.from({ length: count }, (_, i) =>
        // Three hours of events, and every 50th one an hour late (its own hour, an older one).
        sampleEvent(topicId, i, start + (i % 50 === 49 ? -hour : Math.floor((i / count) * 3 * hour)), `s-${i % 37}`),
      );
      produced.set(topicId, events);
      const key = (e: unknown) =>
        topicId === 'catalog' ? (e as { product_id: string }).product_id : (e as { session_id: string }).session_id;
      for (let i = 0; i < events.length; i += 500) {
        const messages = await Promise.all(
          events.slice(i, i + 500).map(async (e) => ({ key: key(e), value: await encode(topicId, e) })),
        );
        await producer.send({ topic: spec(topicId).name, acks: -1, messages });
      }
    }

    for (const s of specs) {
      const expected = counts[s.id]! + (s.id === 'clicks' ? 5 : 0);
      await waitFor(
        async () => [...(await storedRowsPerPartition(root, s.id)).values()].reduce((a, b) => a + b, 0) === expected,
        { timeoutMs: 60_000, what: `${expected} rows of ${s.id} in the store` },
      );
    }

    // Clicks also hold the four poison records of the test above: offsets without rows.
    const clickLetters = new Map<number, number>();
    for (const letter of await readAll(spec('clicks').dlq, 4)) {
      const p = deadLetterOrigin(letter.headers)!.sourcePartition;
      clickLetters.set(p, (clickLetters.get(p) ?? 0) + 1);
    }
    const comparison = [];
    for (const s of specs) {
      comparison.push(...(await compareWithKafka(admin, root, s, s.id === 'clicks' ? clickLetters : new Map())));
    }
    console.log(`offline store vs Kafka offsets\n${formatComparison(comparison)}`);
    expect(comparison.filter((row) => !matches(row))).toEqual([]);
    expect(comparison.reduce((n, r) => n + r.parquetRows, 0)).toBe(
      Object.values(counts).reduce((a, b) => a + b, 0) + 5,
    );

    const types = await duckdb<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM ${storeTable(root, 'impressions')}`,
    );
    const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t.column_type]));
    expect(typeOf).toMatchObject({
      occurred_at: 'TIMESTAMP WITH TIME ZONE',
      page: 'INTEGER',
      device: 'VARCHAR',
      request_id: 'VARCHAR',
      items: 'STRUCT(product_id VARCHAR, "position" INTEGER, retrieval_score DOUBLE)[]',
      kafka_partition: 'INTEGER',
      kafka_offset: 'BIGINT',
      kafka_timestamp: 'TIMESTAMP WITH TIME ZONE',
    });
    const catalogTypes = await duckdb<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM ${storeTable(root, 'catalog')}`,
    );
    expect(catalogTypes.find((t) => t.column_name === 'product')?.column_type).toBe(
      'STRUCT(title VARCHAR, brand VARCHAR, category_path VARCHAR[], price_minor BIGINT, currency VARCHAR, rating DOUBLE, review_count INTEGER, available BOOLEAN, released_at TIMESTAMP WITH TIME ZONE, attributes MAP(VARCHAR, VARCHAR))',
    );

    // Values round-trip: the nested items of every impression, and the catalogue's maps and nulls.
    const impressions = produced.get('impressions') as { event_id: string; items: unknown[]; occurred_at: number }[];
    const items = await duckdb<{ event_id: string; items: string; ms: bigint }>(
      `SELECT event_id, to_json(items)::VARCHAR AS items, epoch_ms(occurred_at) AS ms FROM ${storeTable(root, 'impressions')}`,
    );
    const byId = new Map(items.map((r) => [r.event_id, r]));
    for (const event of impressions) {
      expect(JSON.parse(byId.get(event.event_id)!.items)).toEqual(event.items);
      expect(Number(byId.get(event.event_id)!.ms)).toBe(event.occurred_at);
    }
    const exploded = await duckdb<{ n: bigint }>(
      `SELECT count(*) AS n FROM (SELECT unnest(items) FROM ${storeTable(root, 'impressions')})`,
    );
    expect(Number(exploded[0]!.n)).toBe(impressions.reduce((n, e) => n + e.items.length, 0));
    const catalog = produced.get('catalog') as {
      event_id: string;
      product: { attributes: object; price_minor: number | null } | null;
    }[];
    const products = await duckdb<{ event_id: string; product: string }>(
      `SELECT event_id, to_json(product)::VARCHAR AS product FROM ${storeTable(root, 'catalog')}`,
    );
    const productById = new Map(
      products.map((r) => [r.event_id, JSON.parse(r.product) as Record<string, unknown> | null]),
    );
    for (const event of catalog) {
      const stored = productById.get(event.event_id);
      if (event.product === null) expect(stored).toBeNull();
      else
        expect({ attributes: stored?.['attributes'], price: stored?.['price_minor'] }).toEqual({
          attributes: event.product.attributes,
          price: event.product.price_minor,
        });
    }

    // Every row sits in the directory of its own event hour (late ones included).
    const misplaced = await duckdb<{ n: bigint }>(
      `SELECT count(*) AS n FROM ${storeTable(root, 'clicks')}
       WHERE strftime(timezone('UTC', occurred_at), '%Y-%m-%d') <> CAST(date AS VARCHAR)
          OR CAST(strftime(timezone('UTC', occurred_at), '%H') AS INTEGER) <> CAST(hour AS INTEGER)`,
    );
    expect(Number(misplaced[0]!.n)).toBe(0);
    const hours = await readdir(join(root, 'topic=clicks'), { recursive: true });
    expect(hours.filter((h) => /^date=[\d-]+\/hour=\d\d$/.test(h)).length).toBeGreaterThanOrEqual(4);
    expect(hours.some((h) => h.endsWith('.tmp'))).toBe(false);

    // Lag reaches zero once everything is committed.
    await waitFor(
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        const lags = [...body.matchAll(/^searchop_consumergroup_lag\{[^}]*topic="([^"]+)"[^}]*\} (\d+)/gm)];
        return lags.length >= specs.reduce((n, s) => n + s.partitions, 0) && lags.every((m) => m[2] === '0');
      },
      { timeoutMs: 30_000, what: 'zero lag on every partition' },
    );
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
  });

  async function readAll(topic: string, count: number) {
    const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
    const received: { value: Buffer | null; headers: IHeaders & Record<string, Buffer | undefined> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push({ value: message.value, headers: message.headers as never });
      },
    });
    try {
      return await waitFor(() => received.length >= count && received, { what: `${count} records on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One clicks topic of the test's own, a store root, and what it takes to run compactors over them. */
async function clicksFixture(prefix: string) {
  const clicks = ownTopics(prefix).specs.find((s) => s.id === 'clicks') as TopicSpecBase;
  const root = await mkdtemp(join(tmpdir(), 'offline-store-'));
  const admin = kafka.admin();
  await admin.connect();
  await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs: [clicks] });
  const codec = await EventCodec.connect(registry, [clicks]);
  const deadLetters = await DeadLetterPublisher.create(kafka);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const groupId = uniqueName(prefix);
  return {
    clicks,
    root,
    admin,
    groupId,
    /** Clicks numbered from..from+count-1, spread over sessions (so over partitions). */
    produce: async (from: number, count: number) => {
      const messages = await Promise.all(
        Array.from({ length: count }, async (_, k) => ({
          key: `s-${(from + k) % 13}`,
          value: await codec.encode(clicks as TopicSpec<unknown>, sampleEvent('clicks', from + k, Date.now(), 's')),
        })),
      );
      await producer.send({ topic: clicks.name, acks: -1, messages });
    },
    start: (metrics: Registry, batch: Partial<BatchLimits>) =>
      startCompactor({ services, codec, deadLetters, specs: [clicks], root, groupId, metrics, batch }),
    storedRows: async () => [...(await storedRowsPerPartition(root, 'clicks')).values()].reduce((a, b) => a + b, 0),
    close: async () => {
      await Promise.allSettled([deadLetters.close(), producer.disconnect(), admin.disconnect()]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe('stopping the compactor', () => {
  it('writes and commits what it gathered before leaving the group', async () => {
    const fixture = await clicksFixture('compactor-stop');
    const { clicks, admin, groupId } = fixture;
    const metrics = new Registry();
    // Nothing is due before stop(): only stopping writes the batch.
    const runner = await fixture.start(metrics, { maxRecords: 1_000_000, maxBytes: 1e9, maxWaitMs: 600_000 });
    try {
      await runner.joined;
      await fixture.produce(0, 300);
      const pending = metrics.getSingleMetric('searchop_consumer_pending_events')!;
      await waitFor(async () => (await pending.get()).values[0]?.value === 300, { what: '300 events gathered' });
      expect(await fixture.storedRows()).toBe(0);

      await runner.stop();
      await expect(runner.done).resolves.toBeUndefined();
      expect(runner.healthy()).toBe(false);
      expect(await fixture.storedRows()).toBe(300);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [clicks.name] });
      const ends = await admin.fetchTopicOffsets(clicks.name);
      // Partitions that received nothing have no committed offset (-1).
      expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
        ends.map((p) => [p.partition, p.high === '0' ? '-1' : p.high]).sort(),
      );
    } finally {
      await runner.stop();
      await fixture.close();
    }
  });
});

describe('resuming from the files', () => {
  it('skips what the files hold when the committed offset lags behind them (a crash between rename and commit)', async () => {
    const fixture = await clicksFixture('compactor-resume');
    try {
      const first = await fixture.start(new Registry(), { maxWaitMs: 200 });
      await first.joined;
      await fixture.produce(0, 200);
      await waitFor(async () => (await fixture.storedRows()) === 200, { what: '200 rows stored' });
      await first.stop();
      // As if the process had died after its files were renamed and before it committed.
      await fixture.admin.resetOffsets({ groupId: fixture.groupId, topic: fixture.clicks.name, earliest: true });
      await fixture.produce(200, 100);

      const metrics = new Registry();
      const second = await fixture.start(metrics, { maxWaitMs: 200 });
      try {
        await waitFor(async () => (await fixture.storedRows()) === 300, { what: '300 rows stored' });
        const [distinct] = await duckdb<{ n: bigint; rows: bigint }>(
          `SELECT count(DISTINCT (kafka_partition, kafka_offset)) AS n, count(*) AS rows FROM ${storeTable(fixture.root, 'clicks')}`,
        );
        expect([Number(distinct!.n), Number(distinct!.rows)]).toEqual([300, 300]);
        const countOf = async (outcome: string) =>
          (await metrics.getSingleMetric('searchop_consumer_records_total')!.get()).values.find(
            (v) => v.labels['outcome'] === outcome,
          )?.value ?? 0;
        // The 200 records already in the files were read again (the committed offset said so) but not written again.
        expect(await countOf('skipped')).toBeGreaterThanOrEqual(200);
        await waitFor(async () => (await countOf('processed')) === 100, { what: '100 records processed' });
      } finally {
        await second.stop();
      }
    } finally {
      await fixture.close();
    }
  });
});
