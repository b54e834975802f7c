import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventsAnswer, UbiAnswer } from './routes/schemas.ts';
import { consumeAll, startTestCollector, type TestCollector } from './test-harness.ts';

const endpoints = {
  brokers: inject('kafkaBrokers'),
  registry: { SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl') },
};
const UBI_SAMPLE = new URL('../../../../shared/data/ubi/ubi-sample-dev.ndjson', import.meta.url);

const session = `s-${randomUUID()}`;
const now = Date.now();

function click(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'click',
    event_id: randomUUID(),
    occurred_at: now,
    session_id: session,
    product_id: 'p-1',
    query: 'Cordless Drill',
    position: 2,
    ...overrides,
  };
}

const validBatch = () => [
  {
    type: 'search_impression',
    event_id: randomUUID(),
    occurred_at: new Date(now - 1_000).toISOString(),
    query: 'Cordless Drill',
    session_id: session,
    items: [
      { product_id: 'p-1', position: 1 },
      { product_id: 'p-2', position: 2, retrieval_score: 3.5 },
    ],
  },
  click(),
  {
    type: 'add_to_cart',
    event_id: randomUUID(),
    occurred_at: now,
    session_id: session,
    product_id: 'p-2',
    quantity: 2,
  },
  {
    type: 'purchase',
    event_id: randomUUID(),
    occurred_at: now,
    session_id: session,
    product_id: 'p-2',
    order_id: 'o-1',
    unit_price_minor: 12_999,
    currency: 'EUR',
  },
  {
    type: 'product_change',
    event_id: randomUUID(),
    occurred_at: now,
    product_id: 'p-2',
    op: 'UPSERT',
    product: { title: '18V Cordless Drill', category_path: ['Tools', 'Drills'] },
  },
];

async function post(collector: TestCollector, body: unknown, headers: Record<string, string> = {}) {
  const response = await collector.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json<EventsAnswer>() };
}

describe('POST /v1/events against real Kafka', () => {
  let collector: TestCollector;
  const produced: string[] = [];

  beforeAll(async () => {
    collector = await startTestCollector(endpoints);
  });
  afterAll(() => collector?.close());

  it('refuses malformed, oversized and mistyped requests as a whole, naming the field', async () => {
    const marker = click(); // inside every refused request below; it must never reach a topic
    const malformed = await post(collector, `{"events": [${JSON.stringify(marker)},`);
    expect(malformed.status).toBe(400);
    expect(malformed.body['error']).toMatchObject({ code: 'PRD_MALFORMED_BODY' });
    expect(malformed.body.error!.message).toMatch(/^malformed JSON: /);

    const notArray = await post(collector, { events: marker });
    expect(notArray).toMatchObject({ status: 400, body: { error: { code: 'PRD_MALFORMED_BODY', path: 'events' } } });
    const noEvents = await post(collector, { event: [marker] });
    expect(noEvents.status).toBe(400);
    expect(['events', 'event']).toContain(noEvents.body.error!.path);
    expect((await post(collector, { events: [] })).body.error!.path).toBe('events');

    const tooMany = await post(collector, { events: [marker, ...Array.from({ length: 500 }, () => click())] });
    expect(tooMany).toMatchObject({ status: 413, body: { error: { code: 'PRD_TOO_MANY_EVENTS', path: 'events' } } });
    expect(tooMany.body.error!.message).toContain('at most 500 events per request, got 501');

    const tooLarge = await post(collector, { events: [marker, click({ query: 'x'.repeat(1_100_000) })] });
    expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'PRD_BODY_TOO_LARGE' } } });

    const wrongType = await post(collector, JSON.stringify({ events: [marker] }), { 'content-type': 'text/plain' });
    expect(wrongType).toMatchObject({ status: 415, body: { error: { code: 'PRD_UNSUPPORTED_MEDIA_TYPE' } } });
    expect(wrongType.body.error!.message).toContain('application/json');
  });

  it('produces exactly the valid events of a mixed batch and answers each event by index', async () => {
    const valid = validBatch();
    const duplicate = { ...valid[1] };
    const invalid = [
      click({ position: 'second' }),
      click({ session_id: undefined }),
      { ...click(), type: 'page_view' },
      click({ occurred_at: now + 3_600_000 }),
      click({ occurred_at: now - 40 * 86_400_000 }),
      click({ query: 'drill\u0000bits' }),
      click({ user_id: 'u'.repeat(1_000_000) }),
      click({ colour: 'red' }),
    ];
    const { status, body } = await post(collector, { events: [...valid, duplicate, ...invalid] });

    expect(status).toBe(207);
    expect(body).toMatchObject({ accepted: 5, duplicate: 1, rejected: 8, failed: 0 });
    const { results } = body;
    expect(results.map((r) => r.index)).toEqual([...Array(14).keys()]);
    expect(results.slice(0, 5).map((r) => r.status)).toEqual(Array(5).fill('accepted'));
    expect(results.slice(0, 5).map((r) => r.event_id)).toEqual(valid.map((e) => e['event_id']));
    expect(results[5]).toEqual({ index: 5, event_id: duplicate['event_id'], status: 'duplicate' });
    const errorsOf = (i: number) => results[i]!.errors;
    /** The one problem of event `i`, for reasons that embed a time or a list. */
    const onlyProblem = (i: number) => {
      expect(errorsOf(i)).toHaveLength(1);
      return errorsOf(i)![0]!;
    };
    expect(errorsOf(6)).toEqual([{ path: 'position', reason: 'expected null or int' }]);
    expect(errorsOf(7)).toEqual([{ path: 'session_id', reason: 'required' }]);
    expect(onlyProblem(8).path).toBe('type');
    expect(onlyProblem(8).reason).toContain('unknown event type "page_view"');
    expect(onlyProblem(9).path).toBe('occurred_at');
    expect(onlyProblem(9).reason).toContain('5 minutes in the future');
    expect(onlyProblem(10).path).toBe('occurred_at');
    expect(onlyProblem(10).reason).toContain('30 days in the past');
    expect(errorsOf(11)).toEqual([{ path: 'query', reason: 'contains the control character U+0000 at offset 5' }]);
    expect(errorsOf(12)).toEqual([{ path: 'user_id', reason: 'at most 256 characters, got 1000000' }]);
    expect(errorsOf(13)).toEqual([{ path: 'colour', reason: 'unknown field' }]);
    produced.push(...valid.map((e) => e['event_id'] as string));
  });

  it('answers 422 when no event of the batch is valid', async () => {
    const { status, body } = await post(collector, { events: [click({ position: 0 }), { type: 'click' }] });
    expect(status).toBe(422);
    expect(body).toMatchObject({ accepted: 0, rejected: 2 });
    expect(body.results[0]!.errors).toEqual([{ path: 'position', reason: 'must be at least 1' }]);
    expect(body.results[1]!.errors!.map((e) => e.path)).toEqual([
      'event_id',
      'occurred_at',
      'session_id',
      'product_id',
    ]);
  });

  it('produces an event id sent again in a later request once, answering duplicate', async () => {
    const event = click();
    expect((await post(collector, { events: [event] })).body.results[0]!.status).toBe('accepted');
    const again = await post(collector, { events: [event] });
    expect(again.status).toBe(200);
    expect(again.body.results[0]).toEqual({ index: 0, event_id: event['event_id'], status: 'duplicate' });
    produced.push(event['event_id'] as string);
  });

  it('leaves on the topics exactly what it accepted, typed, defaulted and keyed by session', async () => {
    const records = await consumeAll(collector, produced.length);
    expect(records.map((r) => r.value['event_id']).sort()).toEqual([...produced].sort());
    const impression = records.find((r) => r.topicId === 'impressions')!;
    expect(impression.key).toBe(session);
    expect(impression.value).toMatchObject({
      occurred_at: now - 1_000,
      normalized_query: 'cordless drill',
      page: 1,
      device: 'OTHER',
      user_id: null,
      items: [
        { product_id: 'p-1', position: 1, retrieval_score: null },
        { product_id: 'p-2', position: 2, retrieval_score: 3.5 },
      ],
    });
    expect(records.find((r) => r.topicId === 'add-to-carts')!.value).toMatchObject({ quantity: 2, query: null });
    expect(records.find((r) => r.topicId === 'catalog')).toMatchObject({
      key: 'p-2',
      value: { product: { brand: null, available: true, attributes: {}, category_path: ['Tools', 'Drills'] } },
    });
  });

  it('serves /health, /ready and /metrics with request, event and SDK counters', async () => {
    expect((await collector.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await collector.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    const metrics = (await collector.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/searchop_collector_events_total\{type="click",outcome="accepted"\} [1-9]/);
    expect(metrics).toMatch(/searchop_collector_events_total\{type="unknown",outcome="rejected"\} 1/);
    expect(metrics).toMatch(/searchop_collector_requests_total\{route="\/v1\/events",status="207"\} 1/);
    expect(metrics).toMatch(/searchop_events_sent_total\{type="purchase"\} 1/);
    expect(metrics).toMatch(/searchop_events_buffered 0/); // read at scrape time: nothing left outstanding
    const notFound = await collector.app.inject({ method: 'POST', url: '/v1/nothing' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({ error: { code: 'PRD_NOT_FOUND', message: 'no route POST /v1/nothing' } });
  });
});

describe('API keys and the per-key rate limit', () => {
  let collector: TestCollector;
  const keys = ['key-alpha-0123456789', 'key-bravo-0123456789'];

  beforeAll(async () => {
    collector = await startTestCollector({ ...endpoints, settings: { apiKeys: keys, rateLimitPerMinute: 3 } });
  });
  afterAll(() => collector?.close());

  it('refuses requests without a key (401) or with an unknown key (403), before reading the body', async () => {
    const missing = await post(collector, { events: [click()] });
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'PRD_UNAUTHENTICATED' } } });
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    const wrong = await post(collector, { events: [click()] }, { 'x-api-key': 'key-charlie' });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'PRD_FORBIDDEN' } } });
  });

  it('takes either header and limits each key on its own, answering 429 with Retry-After', async () => {
    const alpha = { 'x-api-key': keys[0]! };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(collector, { events: [click()] }, alpha)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await post(collector, { events: [click()] }, alpha);
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'PRD_RATE_LIMITED' } } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    const bravo = await post(collector, { events: [click()] }, { authorization: `Bearer ${keys[1]}` });
    expect(bravo.status).toBe(200);
    expect((await collector.app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});

describe('POST /v1/ubi with the real UBI sample', () => {
  let collector: TestCollector;
  let text: string;
  let timestamps: number[];

  beforeAll(async () => {
    if (!existsSync(UBI_SAMPLE)) {
      throw new Error(`the UBI sample ${UBI_SAMPLE.pathname} is missing: see /work/shared/data/README.md`);
    }
    text = readFileSync(UBI_SAMPLE, 'utf8');
    timestamps = [...text.matchAll(/"timestamp": "([^"]+)"/g)].map((m) => Date.parse(m[1]!));
    // The sample was recorded in December 2024: the collector's clock stands just after it.
    const clock = () => Math.max(...timestamps) + 60_000;
    collector = await startTestCollector({ ...endpoints, clock });
  });
  afterAll(() => collector?.close());

  const postUbi = async (payload: string, query = '') => {
    const response = await collector.app.inject({
      method: 'POST',
      url: `/v1/ubi${query}`,
      headers: { 'content-type': 'application/x-ndjson' },
      payload,
    });
    return { status: response.statusCode, body: response.json<UbiAnswer>() };
  };

  it('ingests every document of the sample: accepted + rejected = total, as impressions and clicks', async () => {
    const { status, body } = await postUbi(text);
    expect(status).toBe(200);
    expect(body['total']).toBe(1_260);
    expect(body['accepted'] + body['rejected']).toBe(body['total']);
    expect(body).toMatchObject({ accepted: 1_260, rejected: 0, duplicate: 0, failed: 0 });

    const records = await consumeAll(collector, 260);
    const impressions = records.filter((r) => r.topicId === 'impressions');
    const clicks = records.filter((r) => r.topicId === 'clicks');
    expect(impressions).toHaveLength(200);
    expect(clicks).toHaveLength(60);
    expect(impressions.every((r) => (r.value['items'] as unknown[]).length === 5)).toBe(true);
    const byId = new Map(impressions.map((r) => [r.value['event_id'], r.value]));
    for (const c of clicks) {
      const shown = byId.get(c.value['impression_id']);
      expect(shown, 'each click refers to the impression of its query').toBeDefined();
      expect(shown!['request_id']).toBe(c.value['request_id']);
      expect(c.key).toBe(shown!['session_id']);
      const item = (shown!['items'] as { product_id: string; position: number }[]).find(
        (i) => i.product_id === c.value['product_id'],
      );
      expect(item?.position).toBe(c.value['position']);
    }
  });

  it('answers a re-sent sample with duplicates only', async () => {
    const { status, body } = await postUbi(text);
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 1_260, accepted: 0, duplicate: 1_260 });
  });

  it('rejects what it cannot map with a reason per document, and ingests the rest', async () => {
    const at = Math.max(...timestamps);
    const queryId = randomUUID();
    const event = (action: string, extra: Record<string, unknown> = {}) => ({
      action_name: action,
      query_id: queryId,
      client_id: 'c-1',
      timestamp: new Date(at).toISOString(),
      event_attributes: { object: { object_id: 'B000TEST01' }, position: { ordinal: 0 } },
      ...extra,
    });
    const lines = [
      { index: { _index: 'ubi_queries' } },
      { query_id: queryId, user_query: 'Test Query', client_id: 'c-1', timestamp: at - 1_000, extra: true },
      event('impression', { timestamp: String(at) }),
      event('click', { timestamp: (at + 1_000) / 1000 }),
      event('view'),
      event('click', { event_attributes: { position: { ordinal: 1 } } }),
      event('add_to_cart', { timestamp: new Date(at).toISOString().replace('Z', '') }),
      event('purchase', {
        event_attributes: { object: { object_id: 'B000TEST01' }, order_id: 'o-9', currency: 'EUR' },
      }),
    ].map((l) => JSON.stringify(l));
    lines.push('{not json', JSON.stringify({ index: { _index: 'ubi_events' } }));
    const { status, body } = await postUbi(lines.join('\n'));

    expect(status).toBe(207);
    expect(body.total).toBe(9); // the action line is not a document; the dangling one counts
    expect(body.accepted + body.rejected).toBe(body.total);
    expect(body).toMatchObject({ accepted: 4, rejected: 5 });
    const byLine = new Map(body.results.map((r) => [r.line, r]));
    expect(byLine.get(2)).toMatchObject({ kind: 'query', status: 'accepted', event_type: 'search_impression' });
    expect(byLine.get(3)).toMatchObject({ kind: 'event', status: 'accepted', event_type: 'search_impression' });
    expect(byLine.get(4)).toMatchObject({ status: 'accepted', event_type: 'click' });
    expect(byLine.get(5)).toMatchObject({ status: 'rejected', action_name: 'view' });
    expect(byLine.get(5)!.errors!.map((e) => e.path)).toEqual(['action_name']);
    expect(byLine.get(5)!.errors![0]!.reason).toContain('"view" has no SearchOp event');
    expect(byLine.get(6)!.errors).toEqual([{ path: 'event_attributes.object.object_id', reason: 'required' }]);
    expect(byLine.get(7)).toMatchObject({ status: 'accepted', event_type: 'add_to_cart' });
    expect(byLine.get(8)!.errors).toEqual([
      {
        path: 'event_attributes.unit_price_minor',
        reason: 'required for purchases (or price in major units with currency)',
      },
    ]);
    expect(byLine.get(9)!.errors![0]!.reason).toMatch(/^malformed JSON/);
    expect(byLine.get(10)!.errors![0]!.reason).toBe('bulk action line without a document after it');
  });

  it('refuses a body of another media type (415) and an empty one (400)', async () => {
    const wrong = await collector.app.inject({
      method: 'POST',
      url: '/v1/ubi',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(wrong.statusCode).toBe(415);
    expect(wrong.json<EventsAnswer>().error!.message).toContain('application/x-ndjson');
    const empty = await postUbi('\n\n');
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'PRD_MALFORMED_BODY' } } });
  });
});
