import { avroTypeOf, eventTypes } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { PopularityRanker, randomRanker, textRanker } from './rankers/in-process.ts';
import type { Ranker } from './rankers/ranker.ts';
import { referenceProblems } from './references.ts';
import { Retrieval } from './retrieval.ts';
import { runSimulation, type SimulationOptions } from './simulator.ts';
import { MemorySink, type EventSink, type SimEvent } from './sinks/sink.ts';
import { generateWorld } from './world/generate.ts';
import { ndcgAt } from './world/metrics.ts';

const world = generateWorld({ seed: 5, products: 600, queries: 120 });
const retrieval = Retrieval.forWorld(world);
const T0 = Date.parse('2025-03-01T00:00:00Z');

async function simulate(overrides: Partial<SimulationOptions> = {}) {
  const sink = new MemorySink();
  const report = await runSimulation({
    world,
    retrieval,
    ranker: textRanker(),
    sink,
    seed: 42,
    shoppers: 300,
    rate: 20,
    clock: { kind: 'simulated', startMs: T0 },
    maxEvents: 3_000,
    ...overrides,
  });
  return { report, sink, events: sink.events };
}

const behavioural = (events: readonly SimEvent[]) => events.filter((e) => e.type !== 'product_change');

// Runs of thousands of events: seconds each on a busy 2-core machine, so more than the default 5 s.
describe('runSimulation', { timeout: 60_000 }, () => {
  it('is deterministic: the same seeds and options give identical events; a longer run extends a shorter one', async () => {
    const a = await simulate();
    const b = await simulate();
    expect(b.events).toEqual(a.events);
    expect((await simulate({ seed: 43 })).events).not.toEqual(a.events);
    const longer = await simulate({ maxEvents: 4_000 });
    expect(behavioural(longer.events).slice(0, 3_000)).toEqual(behavioural(a.events));
  });

  it('emits the catalogue first, then exactly the bounded number of behavioural events, and reports what it emitted', async () => {
    const { report, events } = await simulate();
    expect(events.slice(0, world.products.length).every((e) => e.type === 'product_change')).toBe(true);
    expect(events.slice(0, world.products.length).map((e) => e.event.event_id)).toHaveLength(world.products.length);
    expect(behavioural(events)).toHaveLength(3_000);
    expect(report.stoppedBy).toBe('events');
    for (const type of Object.keys(eventTypes) as (keyof typeof eventTypes)[])
      expect(report.counts[type]).toBe(events.filter((e) => e.type === type).length);
    expect(report.counts.search_impression).toBeGreaterThan(0);
    expect(report.counts.purchase).toBeGreaterThan(0);
    expect(report.counts.purchase).toBeLessThanOrEqual(report.counts.add_to_cart);
    expect(report.counts.add_to_cart).toBeLessThanOrEqual(report.counts.click);
  });

  it('keeps every reference consistent: clicks, carts and purchases point at what their session was shown, clicked and carted', async () => {
    const { events } = await simulate({ ranker: randomRanker(), maxEvents: 6_000 });
    expect(referenceProblems(events)).toEqual([]);
    const purchases = events.filter((e) => e.type === 'purchase');
    expect(purchases.length).toBeGreaterThan(0);
    for (const p of purchases) {
      const product = world.productById.get(p.event.product_id)!;
      expect(p.event.unit_price_minor).toBe(product.priceMinor);
      expect(p.event.currency).toBe('USD');
    }
    // One order per checkout: lines of an order belong to one session.
    const sessionOfOrder = new Map<string, string>();
    for (const p of purchases) {
      expect(sessionOfOrder.get(p.event.order_id) ?? p.event.session_id).toBe(p.event.session_id);
      sessionOfOrder.set(p.event.order_id, p.event.session_id);
    }
  });

  it('produces only events their Avro schemas accept, with positions 1-based over pages and page sizes by device', async () => {
    const { events } = await simulate({ maxEvents: 4_000 });
    for (const e of events) expect(avroTypeOf(eventTypes[e.type]).isValid(e.event)).toBe(true);
    const impressions = events.flatMap((e) => (e.type === 'search_impression' ? [e.event] : []));
    for (const i of impressions) {
      const size = i.device === 'MOBILE' || i.device === 'APP' ? 12 : 24;
      expect(i.items.length).toBeLessThanOrEqual(size);
      expect(i.items.map((item) => item.position)).toEqual(i.items.map((_, k) => (i.page - 1) * size + k + 1));
      expect(i.request_id).toBeNull();
      expect(i.items.every((item) => typeof item.retrieval_score === 'number')).toBe(true);
    }
    expect(impressions.some((i) => i.page === 2)).toBe(true);
    expect(new Set(impressions.map((i) => i.device)).size).toBeGreaterThan(2);
    expect(impressions.some((i) => i.user_id === null)).toBe(true);
  });

  it('runs at the asked rate of event time and stops at the duration', async () => {
    const hours = 2;
    const { report, events } = await simulate({
      rate: 2,
      maxEvents: Infinity,
      durationMs: hours * 3_600_000,
      emitCatalog: false,
    });
    expect(report.stoppedBy).toBe('duration');
    const times = events.map((e) => e.event.occurred_at);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(T0);
    expect(Math.max(...times)).toBeLessThan(T0 + hours * 3_600_000);
    // Sessions ramp up from none at the start, so the first hour's mean is a little below the rate.
    const rate = events.length / (hours * 3_600);
    expect(rate).toBeGreaterThan(2 * 0.85);
    expect(rate).toBeLessThan(2 * 1.15);
  });

  it('follows the Zipf popularity of the world: the most popular query is searched most', async () => {
    const { events } = await simulate({ maxEvents: 8_000, emitCatalog: false });
    const searched = new Map<string, number>();
    for (const e of events)
      if (e.type === 'search_impression' && e.event.page === 1)
        searched.set(e.event.normalized_query, (searched.get(e.event.normalized_query) ?? 0) + 1);
    const top = [...searched].sort((a, b) => b[1] - a[1]);
    expect(top[0]![0]).toBe(world.queries[0]!.normalized);
    expect(top[0]![1] / searched.get(world.queries[1]!.normalized)!).toBeGreaterThan(1.4);
  });

  it('leaves a signal in behaviour that beats the text and popularity baselines against the truth', async () => {
    // History under random rankings (no position confound), then a ranker that scores by per-query
    // click-through corrected for examination: a stand-in for what the learned ranker does with features.
    const { events } = await simulate({ ranker: randomRanker(), maxEvents: 40_000, emitCatalog: false });
    const shown = new Map<string, number>();
    const clicks = new Map<string, number>();
    const productClicks = new Map<string, number>();
    for (const e of events) {
      if (e.type === 'search_impression')
        for (const item of e.event.items) {
          const key = `${e.event.normalized_query}|${item.product_id}`;
          shown.set(key, (shown.get(key) ?? 0) + 0.9 ** ((item.position - 1) % 24));
        }
      if (e.type === 'click') {
        const key = `${e.event.normalized_query}|${e.event.product_id}`;
        clicks.set(key, (clicks.get(key) ?? 0) + 1);
        productClicks.set(e.event.product_id, (productClicks.get(e.event.product_id) ?? 0) + 1);
      }
    }
    let text = 0;
    let popularity = 0;
    let learned = 0;
    let weight = 0;
    for (const q of world.queries) {
      const candidates = retrieval.retrieve(q);
      const ids = candidates.map((c) => c.productId);
      const maxScore = Math.max(1e-9, ...candidates.map((c) => c.retrievalScore));
      const score = new Map(
        candidates.map((c) => {
          const key = `${q.normalized}|${c.productId}`;
          const ctr = ((clicks.get(key) ?? 0) + 0.2) / ((shown.get(key) ?? 0) + 1);
          return [c.productId, ctr + (0.2 * c.retrievalScore) / maxScore];
        }),
      );
      text += q.weight * ndcgAt(10, ids, q.grades);
      popularity +=
        q.weight *
        ndcgAt(
          10,
          [...ids].sort((a, b) => (productClicks.get(b) ?? 0) - (productClicks.get(a) ?? 0)),
          q.grades,
        );
      learned +=
        q.weight *
        ndcgAt(
          10,
          [...ids].sort((a, b) => score.get(b)! - score.get(a)!),
          q.grades,
        );
      weight += q.weight;
    }
    expect(learned / weight).toBeGreaterThan(text / weight + 0.05);
    expect(learned / weight).toBeGreaterThan(popularity / weight + 0.05);
  });

  it('lets the popularity ranker learn from the clicks it observes as they are emitted', async () => {
    const ranker = new PopularityRanker();
    const { events } = await simulate({ ranker, emitCatalog: false });
    const clicked = events.flatMap((e) => (e.type === 'click' ? [e.event.product_id] : []));
    expect(clicked.length).toBeGreaterThan(0);
    expect(ranker.clicksOf(clicked[0]!)).toBe(clicked.filter((id) => id === clicked[0]).length);
  });

  it('shows retrieval order and counts the failure when the ranker fails', async () => {
    const failing: Ranker = { name: 'failing', rank: () => Promise.reject(new Error('down')) };
    const errors: number[] = [];
    const { report, events } = await simulate({
      ranker: failing,
      maxEvents: 500,
      emitCatalog: false,
      onRankError: (_error, count) => errors.push(count),
    });
    const impressions = events.flatMap((e) => (e.type === 'search_impression' ? [e.event] : []));
    expect(report.rankErrors).toBeGreaterThan(0);
    expect(errors.at(-1)).toBe(report.rankErrors);
    for (const i of impressions.filter((x) => x.page === 1)) {
      const query = world.queryByNormalized.get(i.normalized_query)!;
      const expected = retrieval
        .retrieve(query)
        .slice(0, i.items.length)
        .map((c) => c.productId);
      expect(i.items.map((item) => item.product_id)).toEqual(expected);
    }
  });

  it('stops on the first sink failure and reports only what the sink took', async () => {
    let taken = 0;
    const sink: EventSink = {
      emit: async () => {
        if (taken >= 100) throw new Error('disk full');
        taken++;
        return 'sent';
      },
      flush: async () => {},
    };
    const { report } = await simulate({ sink, maxEvents: 10_000, emitCatalog: false });
    expect(report.stoppedBy).toBe('sink-failed');
    expect((report.failure as Error).message).toBe('disk full');
    expect(Object.values(report.counts).reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('fails the run, after flushing, when a session throws (a bug, not an outcome)', async () => {
    const broken: Ranker = { name: 'broken', rank: async () => ({ productIds: null as never, requestId: null }) };
    const sink = new MemorySink();
    let flushed = false;
    sink.flush = async () => {
      flushed = true;
    };
    await expect(simulate({ ranker: broken, sink, emitCatalog: false })).rejects.toThrow(TypeError);
    expect(flushed).toBe(true);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const sink = new MemorySink();
    const emit = sink.emit.bind(sink);
    sink.emit = (event) => {
      if (sink.events.length === 200) controller.abort();
      return emit(event);
    };
    const { report } = await simulate({
      sink,
      maxEvents: Infinity,
      durationMs: 86_400_000,
      emitCatalog: false,
      signal: controller.signal,
    });
    expect(report.stoppedBy).toBe('aborted');
    expect(sink.events.length).toBeGreaterThanOrEqual(200);
    expect(sink.events.length).toBeLessThan(300);
  });

  it('keeps references consistent when sessions advance concurrently', async () => {
    const slow: Ranker = {
      name: 'slow',
      rank: async (request) => {
        await new Promise((resolve) => setImmediate(resolve));
        return textRanker().rank(request);
      },
    };
    const { events } = await simulate({ ranker: slow, concurrency: 8, maxEvents: 2_000, emitCatalog: false });
    expect(behavioural(events)).toHaveLength(2_000);
    expect(referenceProblems(events)).toEqual([]);
  });

  it('on the real clock, emits no event before its time and stamps it with the wall clock', async () => {
    const emittedAt: { at: number; occurred: number }[] = [];
    const sink: EventSink = {
      emit: async (e) => {
        emittedAt.push({ at: Date.now(), occurred: e.event.occurred_at });
        return 'sent';
      },
      flush: async () => {},
    };
    const before = Date.now();
    const { report } = await simulate({
      sink,
      rate: 200,
      clock: { kind: 'real' },
      maxEvents: Infinity,
      durationMs: 400,
      emitCatalog: false,
    });
    expect(report.stoppedBy).toBe('duration');
    expect(emittedAt.length).toBeGreaterThan(0);
    for (const e of emittedAt) {
      expect(e.occurred).toBeGreaterThanOrEqual(before);
      expect(e.at).toBeGreaterThanOrEqual(e.occurred);
    }
  });
});
