import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProducerErrorCode } from '../../errors.ts';
import { referenceProblems } from '../references.ts';
import { Retrieval } from '../retrieval.ts';
import { Rng } from '../rng.ts';
import { runSimulation } from '../simulator.ts';
import { MemorySink } from '../sinks/sink.ts';
import { rejectionOf } from '../test-support.ts';
import { generateWorld } from '../world/generate.ts';
import { httpRanker, type RankRequestBody } from './http.ts';

/**
 * A stand-in for the ranking service on a real socket: it answers the /rank contract with the
 * candidates in reverse retrieval order, so the storefront's use of its answer is visible.
 */
describe('the http ranker against a /rank service', () => {
  const world = generateWorld({ seed: 4, products: 200, queries: 30 });
  const retrieval = Retrieval.forWorld(world);
  const requests: RankRequestBody[] = [];
  let mode: 'reverse' | 'fail' | 'slow' | 'garbage' = 'reverse';
  let server: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    server = Fastify();
    server.post<{ Body: RankRequestBody }>('/rank', async (request, reply) => {
      requests.push(request.body);
      if (request.headers['x-api-key'] !== 'secret')
        return reply.code(401).send({ error: { code: 'RNK_UNAUTHENTICATED' } });
      if (mode === 'fail') return reply.code(503).send({ error: { code: 'RNK_UNAVAILABLE', message: 'down' } });
      if (mode === 'garbage') return { ranked: [] };
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
      return {
        request_id: `req-${requests.length}`,
        model_version: 1,
        degraded: false,
        results: [...request.body.candidates]
          .reverse()
          .map((c, i) => ({ product_id: c.product_id, score: -i, position: i + 1 })),
      };
    });
    url = `${await server.listen({ host: '127.0.0.1', port: 0 })}/rank`;
  });
  afterAll(() => server.close());

  async function simulate(maxEvents: number, concurrency: number) {
    const sink = new MemorySink();
    const report = await runSimulation({
      world,
      retrieval,
      ranker: httpRanker({ url, apiKey: 'secret' }),
      sink,
      seed: 3,
      shoppers: 20,
      rate: 20,
      clock: { kind: 'simulated', startMs: Date.parse('2025-02-01T00:00:00Z') },
      maxEvents,
      emitCatalog: false,
      concurrency,
    });
    return { sink, report };
  }

  it('shows the service order, echoes its request_id in the impression and the events that follow it', async () => {
    mode = 'reverse';
    requests.length = 0;
    const { sink, report } = await simulate(400, 4);
    expect(report.rankErrors).toBe(0);
    const impressions = sink.ofType('search_impression').filter((i) => i.page === 1);
    expect(impressions.length).toBeGreaterThan(0);
    expect(requests.length).toBeGreaterThanOrEqual(impressions.length);
    for (const impression of impressions) {
      expect(impression.request_id).toMatch(/^req-\d+$/);
      const query = world.queryByNormalized.get(impression.normalized_query)!;
      const reversed = [...retrieval.retrieve(query)].reverse().map((c) => c.productId);
      expect(impression.items.map((i) => i.product_id)).toEqual(reversed.slice(0, impression.items.length));
    }
    for (const click of sink.ofType('click')) expect(click.request_id).toMatch(/^req-\d+$/);
    expect(referenceProblems(sink.events)).toEqual([]);

    // The service refuses unknown properties: only these may be sent.
    for (const sent of requests)
      for (const key of Object.keys(sent)) expect(['query', 'candidates', 'user_id', 'session_id']).toContain(key);
    const body = requests[0]!;
    const query = world.queries.find((q) => q.text === body.query)!;
    expect(body.candidates).toEqual(
      retrieval.retrieve(query).map((c) => ({ product_id: c.productId, retrieval_score: c.retrievalScore })),
    );
    expect(body.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests.some((r) => r.user_id === undefined)).toBe(true);
    expect(requests.some((r) => r.user_id?.startsWith('u-'))).toBe(true);
  });

  it('fails with PRD_RANK_UNAVAILABLE on an error status, an unreadable body or a timeout', async () => {
    const ranker = httpRanker({ url, timeoutMs: 100, apiKey: 'secret' });
    const request = {
      query: 'q',
      normalizedQuery: 'q',
      candidates: [{ productId: world.products[0]!.id, retrievalScore: 1 }],
      userId: null,
      sessionId: 's',
      device: 'DESKTOP' as const,
      rng: Rng.seeded(1, 'http'),
    };
    for (const failing of ['fail', 'garbage', 'slow'] as const) {
      mode = failing;
      await expect(ranker.rank(request)).rejects.toMatchObject({
        code: ProducerErrorCode.RANK_UNAVAILABLE,
        retriable: true,
      });
    }
    mode = 'reverse';
    const unauthenticated = await rejectionOf(httpRanker({ url }).rank(request));
    expect(unauthenticated?.code).toBe(ProducerErrorCode.RANK_UNAVAILABLE);
    expect(unauthenticated?.message).toMatch(/answered 401/);
    await expect(httpRanker({ url: 'http://127.0.0.1:1/rank' }).rank(request)).rejects.toMatchObject({
      code: ProducerErrorCode.RANK_UNAVAILABLE,
    });
  });

  it('falls back to retrieval order with no request_id while the service fails, counting each failure', async () => {
    mode = 'fail';
    const { sink, report } = await simulate(100, 1);
    mode = 'reverse';
    const impressions = sink.ofType('search_impression').filter((i) => i.page === 1);
    expect(report.rankErrors).toBe(impressions.length);
    for (const impression of impressions) {
      expect(impression.request_id).toBeNull();
      const query = world.queryByNormalized.get(impression.normalized_query)!;
      expect(impression.items[0]!.product_id).toBe(retrieval.retrieve(query)[0]!.productId);
    }
  });
});
