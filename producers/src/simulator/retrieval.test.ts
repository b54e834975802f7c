import MiniSearch from 'minisearch';
import { describe, expect, it } from 'vitest';
import { PopularityRanker, randomRanker, textRanker } from './rankers/in-process.ts';
import { displayOrder, type RankRequest } from './rankers/ranker.ts';
import { Retrieval, searchTokens } from './retrieval.ts';
import { Rng } from './rng.ts';
import { generateWorld } from './world/generate.ts';
import { makeWorld, type Grade, type Product } from './world/types.ts';

function product(id: string, title: string): Product {
  return { id, title, brand: null, categoryPath: [], priceMinor: 100, rating: null, reviewCount: 0, attributes: {} };
}

const products = [
  product('bits', 'Voltara Titanium Drill Bit Set 21-Piece'),
  product('case', 'Voltara Drill Case'),
  product('drill', 'Voltara 20V Cordless Drill Driver Kit'),
  product('saw', 'Ironclad 7-1/4 in. Circular Saw'),
  product('fan', 'Lumina 52 in. Ceiling Fan'),
];
const grades = new Map<string, Grade>(products.map((p) => [p.id, 0]));
const world = makeWorld('generated', 'USD', products, [
  {
    text: 'Voltara 20V Cordless Drill Driver Kit',
    normalized: 'voltara 20v cordless drill driver kit',
    weight: 1,
    candidates: products.map((p) => p.id),
    grades,
  },
  { text: 'ceiling fan', normalized: 'ceiling fan', weight: 0.5, candidates: ['bits', 'saw', 'fan'], grades },
]);

function request(candidates: RankRequest['candidates'], seed = 1): RankRequest {
  return {
    query: 'q',
    normalizedQuery: 'q',
    candidates,
    userId: null,
    sessionId: 's',
    device: 'DESKTOP',
    rng: Rng.seeded(seed, 'r'),
  };
}

describe('Retrieval and the text ranker', () => {
  const retrieval = Retrieval.forWorld(world);

  it('ranks the product whose title is the query first, products sharing no word last with score 0', async () => {
    const retrieved = retrieval.retrieve(world.queries[0]!);
    expect(retrieved[0]!.productId).toBe('drill');
    expect(retrieved.at(-1)).toEqual({ productId: 'fan', retrievalScore: 0 });
    const ranked = await textRanker().rank(request([...retrieved].reverse()));
    expect(ranked.productIds[0]).toBe('drill');
    // By score whatever order the candidates come in; the two unmatched ones tie at 0.
    expect(ranked.productIds.slice(0, 3)).toEqual(['drill', 'case', 'bits']);
    expect(retrieval.retrieve(world.queries[1]!)[0]!.productId).toBe('fan');
  });

  it('keeps measures and sizes whole on both sides', () => {
    expect(searchTokens('Ironclad 7-1/4 in. Circular Saw')).toEqual(['ironclad', '7-1/4', 'in', 'circular', 'saw']);
    const scores = retrieval.score('7-1/4 saw', ['saw', 'drill']);
    expect([...scores.keys()]).toEqual(['saw']);
  });

  it('scores exactly as MiniSearch does on the same titles (BM25+, coordination factor)', () => {
    const generated = generateWorld({ seed: 3, products: 800, queries: 80 });
    const ours = Retrieval.forWorld(generated);
    const index = new MiniSearch<Product>({ fields: ['title'], tokenize: searchTokens, processTerm: (t) => t });
    index.addAll([...generated.products]);
    for (const q of generated.queries) {
      const theirs = new Map(index.search(q.text).map((hit) => [hit.id as string, hit.score]));
      const scores = ours.score(q.text, q.candidates);
      for (const id of q.candidates) {
        const expected = theirs.get(id);
        if (expected === undefined) expect(scores.has(id)).toBe(false);
        else expect(scores.get(id)).toBeCloseTo(expected, 9);
      }
    }
  });
});

describe('rankers', () => {
  const candidates = ['a', 'b', 'c', 'd', 'e'].map((productId, i) => ({ productId, retrievalScore: 5 - i }));

  it('random: a permutation of the candidates, reproducible from the session stream', async () => {
    const first = await randomRanker().rank(request(candidates, 9));
    expect([...first.productIds].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await randomRanker().rank(request(candidates, 9))).productIds).toEqual(first.productIds);
    expect(first.requestId).toBeNull();
  });

  it('popularity: most clicked first from the clicks it observed, the rest in retrieval order', async () => {
    const ranker = new PopularityRanker();
    const click = (product_id: string) =>
      ranker.observe({
        type: 'click',
        event: {
          event_id: product_id + Math.random(),
          occurred_at: 0,
          impression_id: 'i',
          request_id: null,
          query: 'q',
          normalized_query: 'q',
          user_id: null,
          session_id: 's',
          product_id,
          position: 1,
        },
      });
    click('d');
    click('d');
    click('c');
    expect((await ranker.rank(request(candidates))).productIds).toEqual(['d', 'c', 'a', 'b', 'e']);
    expect(ranker.clicksOf('d')).toBe(2);
  });

  it('the storefront shows the ranker order over the candidates, then what the ranker left out', () => {
    expect(displayOrder(['c', 'x', 'a', 'c'], candidates)).toEqual(['c', 'a', 'b', 'd', 'e']);
    expect(displayOrder([], candidates)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
