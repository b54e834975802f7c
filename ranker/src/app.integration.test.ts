import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, defineConfig, loadConfig, redisEnv } from '@searchop/runtime';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  FEATURE_COUNT,
  FEATURE_INDEX,
  FEATURE_NAMES,
  decodeState,
  featureVector,
  keyLayout,
  pairField,
  prepareQuery,
  terms,
} from '@searchop/schemas';
import { FeatureFixture, clickEvent, deleteKeys, impressionEvent, product } from './testing/feature-fixture.ts';
import { referenceScore } from './testing/lightgbm-text.ts';
import { TestRegistry, leaf, specModel, split } from './testing/model-files.ts';
import { startTestRanker, type TestRanker } from './testing/harness.ts';
import type { RankerSettings } from './config.ts';

const redisUrl = inject('redisUrl');
const redis = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: redisUrl }));
const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const HOUR = 3_600_000;
const QUERY = 'Cordless Drill';
afterAll(() => redis.disconnect());

/** Ranks by query–product clicks in the last 24 h, then by BM25 of the title. */
const MODEL = specModel([
  split('query_product_clicks_24h', 5, leaf(0), split('query_product_clicks_24h', 20, leaf(1), leaf(2))),
  split('text_bm25', 0.1, leaf(0), leaf(0.5)),
]);

const impression = (productIds: string[], at: number) => impressionEvent(QUERY, productIds, at);
const click = (productId: string, at: number, query: string | null = QUERY) => clickEvent(productId, at, query);

/** A response's rows of explain features back as a vector (null is a missing value, NaN). */
const vectorOf = (features: Record<string, number | null>) => FEATURE_NAMES.map((n) => features[n] ?? Number.NaN);

interface RankBody {
  request_id: string;
  model_version: number | null;
  degraded: boolean;
  results: { product_id: string; score: number | null; position: number; features?: Record<string, number | null> }[];
}

async function writeShop(prefix: string): Promise<void> {
  const fixture = new FeatureFixture(keyLayout(prefix));
  fixture
    .product('p-hot', product('Cordless drill 18V brushless', { price_minor: 12_900, rating: 4.6, review_count: 320 }))
    .product('p-warm', product('Drill bit set 20 pieces', { price_minor: 1_999 }))
    .product('p-new', product('Cordless drill driver kit with case', { released_at: NOW - 3 * 24 * HOUR }))
    .product('p-cold', product('Garden hose 25 m'))
    .product('p-filler-1', product('Claw hammer'))
    .product('p-filler-2', product('Tape measure 5 m'));
  for (let i = 0; i < 100; i++)
    fixture.behaviour(impression(['p-hot', 'p-warm', 'p-cold'], NOW - 2 * HOUR - i * 1_000));
  for (let i = 0; i < 40; i++) fixture.behaviour(click('p-hot', NOW - HOUR - i * 1_000));
  for (let i = 0; i < 10; i++) fixture.behaviour(click('p-warm', NOW - HOUR - i * 1_000));
  // Clicks without a query count for the product and globally, not for the pair.
  for (let i = 0; i < 30; i++) fixture.behaviour(click('p-cold', NOW - HOUR - i * 1_000, null));
  await fixture.write(redis);
}

/** A ranker of a describe block's own: a registry serving MODEL as v1 (unless `model: false`), the shop's features, cleanup. */
function rankerFixture(name: string, options: { model?: boolean; settings?: Partial<RankerSettings> } = {}) {
  const prefix = `${uniqueName(name)}:`;
  const fixture = { prefix } as { prefix: string; models: TestRegistry; ranker: TestRanker };
  beforeAll(async () => {
    fixture.models = await TestRegistry.create();
    if (options.model !== false) {
      await fixture.models.publish(1, MODEL);
      await fixture.models.point(1);
    }
    await writeShop(prefix);
    fixture.ranker = await startTestRanker({
      redisUrl,
      keyPrefix: prefix,
      registryRoot: fixture.models.root,
      clock: () => NOW,
      ...(options.settings ? { settings: options.settings } : {}),
    });
  });
  afterAll(async () => {
    await fixture.ranker.close();
    await fixture.models.destroy();
    await deleteKeys(redis, prefix);
  });
  return fixture;
}

describe('POST /rank', () => {
  const env = rankerFixture('rank');
  const rank = async (payload: unknown, url = '/rank?explain=true') => {
    const response = await env.ranker.service.app.inject({ method: 'POST', url, payload: payload as object });
    return { status: response.statusCode, body: response.json<RankBody>() };
  };

  it('orders candidates as the model scores them, with the exact scores of the model', async () => {
    const candidates = ['p-ghost', 'p-cold', { product_id: 'p-new', retrieval_score: 3.5 }, 'p-warm', 'p-hot'];
    const { status, body } = await rank({ query: QUERY, candidates, session_id: 's-1', user_id: 'u-1' });
    expect(status).toBe(200);
    expect(body.degraded).toBe(false);
    expect(body.model_version).toBe(1);
    // 40 pair clicks → 2, 10 → 1, a title with a query term → +0.5; ties keep input order.
    expect(body.results.map((r) => [r.product_id, r.position])).toEqual([
      ['p-hot', 1],
      ['p-warm', 2],
      ['p-new', 3],
      ['p-ghost', 4],
      ['p-cold', 5],
    ]);
    for (const result of body.results) {
      expect(result.score).toBe(referenceScore(MODEL, vectorOf(result.features!)));
    }
    expect(body.results.map((r) => r.score)).toEqual([2.5, 1.5, 0.5, 0, 0]);
  });

  it("serves exactly the feature spec's values of what Redis holds, and a stranger gets the trainer's defaults", async () => {
    const { body } = await rank({
      query: QUERY,
      candidates: ['p-hot', 'p-ghost', { product_id: 'p-cold', retrieval_score: 1.25 }],
    });
    const keys = keyLayout(env.prefix);
    const read = async (key: string) => decodeState(await redis.getBuffer(key));
    const [documents, totalLength] = await redis.hmget(keys.textStats(), 'documents', 'total_length');
    const queryTerms = terms(QUERY);
    const df = await redis.hmget(keys.textDocumentFrequency(), ...queryTerms);
    const prepared = prepareQuery({
      queryTerms,
      query: await read(keys.queryCounters('cordless drill')),
      global: await read(keys.globalCounters()),
      text: {
        documents: Number(documents),
        averageLength: Number(totalLength) / Number(documents),
        documentFrequency: (t) => Number(df[queryTerms.indexOf(t)] ?? 0),
      },
      nowMs: NOW,
    });
    const expected = featureVector(prepared, {
      product: await read(keys.productCounters('p-hot')),
      pair: decodeState(await redis.hgetBuffer(keys.queryPairs('cordless drill'), pairField('p-hot'))),
      catalog: JSON.parse((await redis.get(keys.productCatalog('p-hot')))!) as never,
      retrievalScore: Number.NaN,
    });
    const byId = new Map(body.results.map((r) => [r.product_id, vectorOf(r.features!)]));
    expect(byId.get('p-hot')).toEqual([...expected]);
    expect(byId.get('p-hot')![FEATURE_INDEX.get('query_product_clicks_24h')!]).toBe(40);
    const stranger = [
      ...featureVector(prepared, {
        product: undefined,
        pair: undefined,
        catalog: undefined,
        retrievalScore: Number.NaN,
      }),
    ];
    expect(byId.get('p-ghost')).toEqual(stranger);
    expect(byId.get('p-cold')![FEATURE_INDEX.get('retrieval_score')!]).toBe(1.25);
    expect(byId.get('p-cold')![FEATURE_INDEX.get('product_clicks_24h')!]).toBe(30);
  });

  it('returns the best `limit` results and leaves features out unless asked', async () => {
    const { body } = await rank({ query: QUERY, candidates: ['p-cold', 'p-warm', 'p-hot'], limit: 2 }, '/rank');
    expect(body.results).toEqual([
      { product_id: 'p-hot', score: 2.5, position: 1 },
      { product_id: 'p-warm', score: 1.5, position: 2 },
    ]);
  });

  it('takes the request id from x-request-id', async () => {
    const response = await env.ranker.service.app.inject({
      method: 'POST',
      url: '/rank',
      headers: { 'x-request-id': 'storefront-req-7' },
      payload: { query: 'drill', candidates: ['p-hot'] },
    });
    expect(response.json<RankBody>().request_id).toBe('storefront-req-7');
  });

  const tooMany = Array.from({ length: 10_001 }, (_, i) => `p${i}`);
  const deep = `{"query":"drill","candidates":[${'['.repeat(5_000)}${']'.repeat(5_000)}]}`;
  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"query":"drill","candidates":["p-hot","'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"]}'),
  ]);
  const refusals: [string, string | Buffer, string, number, string, string][] = [
    [
      'an empty query',
      JSON.stringify({ query: '', candidates: ['a'] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'query',
    ],
    [
      'a blank query',
      JSON.stringify({ query: ' \t ', candidates: ['a'] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'query',
    ],
    [
      'a query over 512 characters',
      JSON.stringify({ query: 'x'.repeat(513), candidates: ['a'] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'query',
    ],
    [
      'no candidates',
      JSON.stringify({ query: 'drill', candidates: [] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates',
    ],
    [
      'a numeric id',
      JSON.stringify({ query: 'drill', candidates: ['a', 42] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[1]',
    ],
    [
      'a numeric product_id',
      JSON.stringify({ query: 'drill', candidates: [{ product_id: 7 }] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[0].product_id',
    ],
    [
      'an empty id',
      JSON.stringify({ query: 'drill', candidates: [''] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[0]',
    ],
    [
      'duplicate candidates',
      JSON.stringify({ query: 'drill', candidates: ['a', 'b', { product_id: 'a' }] }),
      'application/json',
      400,
      'RNK_DUPLICATE_CANDIDATE',
      'candidates[2]',
    ],
    [
      '10,001 candidates',
      JSON.stringify({ query: 'drill', candidates: tooMany }),
      'application/json',
      400,
      'RNK_TOO_MANY_CANDIDATES',
      'candidates',
    ],
    [
      'a NaN retrieval score',
      '{"query":"drill","candidates":[{"product_id":"a","retrieval_score":NaN}]}',
      'application/json',
      400,
      'RNK_MALFORMED_BODY',
      'candidates[0].retrieval_score',
    ],
    [
      'an Infinity retrieval score',
      '{"query":"drill","candidates":[{"product_id":"a","retrieval_score":Infinity}]}',
      'application/json',
      400,
      'RNK_MALFORMED_BODY',
      'candidates[0].retrieval_score',
    ],
    [
      'a retrieval score that overflows to Infinity',
      '{"query":"drill","candidates":[{"product_id":"a","retrieval_score":1e400}]}',
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[0].retrieval_score',
    ],
    [
      'a string retrieval score',
      JSON.stringify({ query: 'drill', candidates: [{ product_id: 'a', retrieval_score: '3' }] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[0].retrieval_score',
    ],
    [
      'an unknown field',
      JSON.stringify({ query: 'drill', candidates: ['a'], boost: 2 }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'boost',
    ],
    [
      'an unknown candidate field',
      JSON.stringify({ query: 'drill', candidates: [{ product_id: 'a', score: 1 }] }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'candidates[0].score',
    ],
    ['a missing query', JSON.stringify({ candidates: ['a'] }), 'application/json', 400, 'RNK_INVALID_REQUEST', 'query'],
    [
      'a limit of 0',
      JSON.stringify({ query: 'drill', candidates: ['a'], limit: 0 }),
      'application/json',
      400,
      'RNK_INVALID_REQUEST',
      'limit',
    ],
    [
      'a __proto__ key',
      '{"query":"drill","candidates":["a"],"__proto__":{"polluted":true}}',
      'application/json',
      400,
      'RNK_MALFORMED_BODY',
      '__proto__',
    ],
    [
      'a constructor.prototype key',
      '{"query":"drill","candidates":[{"product_id":"a","constructor":{"prototype":{"polluted":true}}}]}',
      'application/json',
      400,
      'RNK_MALFORMED_BODY',
      'candidates[0].constructor',
    ],
    ['deeply nested JSON', deep, 'application/json', 400, 'RNK_MALFORMED_BODY', `candidates${'[0]'.repeat(15)}`],
    ['invalid UTF-8', invalidUtf8, 'application/json', 400, 'RNK_MALFORMED_BODY', 'candidates[1]'],
    ['not JSON at all', 'query=drill', 'application/json', 400, 'RNK_MALFORMED_BODY', '(body)'],
    ['a JSON array body', '["drill"]', 'application/json', 400, 'RNK_INVALID_REQUEST', '(body)'],
    [
      'a form body',
      'query=drill&candidates=a',
      'application/x-www-form-urlencoded',
      415,
      'RNK_UNSUPPORTED_MEDIA_TYPE',
      'content-type',
    ],
    [
      'a text body',
      '{"query":"drill","candidates":["a"]}',
      'text/plain',
      415,
      'RNK_UNSUPPORTED_MEDIA_TYPE',
      'content-type',
    ],
  ];

  it.each(refusals)(
    'refuses %s with a clear 4xx naming the field, and keeps serving',
    async (_what, payload, contentType, status, code, field) => {
      const response = await env.ranker.service.app.inject({
        method: 'POST',
        url: '/rank',
        headers: { 'content-type': contentType },
        payload,
      });
      expect(response.statusCode).toBe(status);
      const { error } = response.json<{ error: { code: string; message: string; field: string } }>();
      expect(error.code).toBe(code);
      expect(error.field).toBe(field);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(Object.prototype).not.toHaveProperty('polluted');
      const after = await rank({ query: QUERY, candidates: ['p-warm', 'p-hot'] }, '/rank');
      expect(after.status).toBe(200);
      expect(after.body.results[0]!.product_id).toBe('p-hot');
    },
  );

  it('refuses a 5 MB body over HTTP with 413 and keeps serving', async () => {
    const base = await env.ranker.listen();
    const big = JSON.stringify({
      query: 'drill',
      candidates: Array.from({ length: 400_000 }, (_, i) => `product-${i}`),
    });
    expect(big.length).toBeGreaterThan(5_000_000);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/rank`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(big);
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'RNK_BODY_TOO_LARGE', field: '(body)' } });
    const after = await fetch(`${base}/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY, candidates: ['p-hot'] }),
    });
    expect(after.status).toBe(200);
  });

  it('serves /health, /ready, the OpenAPI document and the metrics dashboards expect', async () => {
    const app = env.ranker.service.app;
    expect((await app.inject('/health')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/ready')).json()).toEqual({ ready: true, model: true, redis: true });
    const openapi = (await app.inject('/docs/json')).json<{
      openapi: string;
      paths: Record<
        string,
        { post?: { requestBody: { content: Record<string, { schema: { additionalProperties: boolean } }> } } }
      >;
    }>();
    expect(openapi.openapi).toBe('3.1.0');
    expect(openapi.paths['/rank']!.post!.requestBody.content['application/json']!.schema.additionalProperties).toBe(
      false,
    );
    const metrics = (await app.inject('/metrics')).body;
    for (const name of [
      'rank_requests_total{status="200",degraded="false"}',
      'rank_request_duration_seconds_bucket',
      'rank_endpoint_errors_total{route="/rank",status="400",code="RNK_DUPLICATE_CANDIDATE"}',
      'model_version_info{version="1",feature_spec_version="v1"} 1',
      'feature_store_duration_seconds_bucket',
      'feature_store_misses_total{entity="product"}',
    ]) {
      expect(metrics).toContain(name);
    }
  });
});

describe('POST /rank with API keys and a rate limit', () => {
  const env = rankerFixture('rank-keys', {
    settings: { apiKeys: ['key-a', 'key-b'], rateLimitMax: 3, rateLimitWindowMs: 60_000 },
  });

  const post = (headers: Record<string, string>) =>
    env.ranker.service.app.inject({
      method: 'POST',
      url: '/rank',
      headers,
      payload: { query: 'drill', candidates: ['a'] },
    });

  it('wants a valid key and limits each key on its own', async () => {
    const missing = await post({});
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: 'RNK_UNAUTHENTICATED', field: 'x-api-key' } });
    expect((await post({ 'x-api-key': 'nope' })).json()).toMatchObject({ error: { code: 'RNK_FORBIDDEN' } });
    for (let i = 0; i < 3; i++) expect((await post({ 'x-api-key': 'key-a' })).statusCode).toBe(200);
    const limited = await post({ 'x-api-key': 'key-a' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'RNK_RATE_LIMITED' } });
    expect((await post({ authorization: 'Bearer key-b' })).statusCode).toBe(200);
    // Probes stay open for the platform.
    expect((await env.ranker.service.app.inject('/health')).statusCode).toBe(200);
  });
});

describe('POST /rank without a model', () => {
  const env = rankerFixture('rank-nomodel', { model: false });

  it('is not ready but answers in input order, degraded, until a model is published', async () => {
    const app = env.ranker.service.app;
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, model: false, redis: true });
    const payload = { query: QUERY, candidates: ['p-cold', 'p-warm', 'p-hot'] };
    const degraded = (await app.inject({ method: 'POST', url: '/rank', payload })).json<RankBody>();
    expect(degraded).toMatchObject({ model_version: null, degraded: true });
    expect(degraded.results).toEqual([
      { product_id: 'p-cold', score: null, position: 1 },
      { product_id: 'p-warm', score: null, position: 2 },
      { product_id: 'p-hot', score: null, position: 3 },
    ]);
    expect((await app.inject('/metrics')).body).toContain('rank_degraded_total{reason="no_model"} 1');

    await env.models.publish(4, MODEL);
    await env.models.point(4);
    await waitFor(async () => (await app.inject('/ready')).statusCode === 200, { what: 'the ranker to be ready' });
    const ranked = (await app.inject({ method: 'POST', url: '/rank', payload })).json<RankBody>();
    expect(ranked).toMatchObject({ model_version: 4, degraded: false });
    expect(ranked.results.map((r) => r.product_id)).toEqual(['p-hot', 'p-warm', 'p-cold']);
  });
});

// The matrix the model sees has the spec's width: a guard against a spec change slipping past the tests above.
it('builds feature rows of the spec width', () => {
  expect(FEATURE_NAMES).toHaveLength(FEATURE_COUNT);
});
