import type { SearchImpression } from '@searchop/schemas';
import { browse, type ClickModelParams } from './click-model.ts';
import { displayOrder, type Ranker, type Ranking } from './rankers/ranker.ts';
import type { Retrieval } from './retrieval.ts';
import type { Rng } from './rng.ts';
import type { WeightedSampler } from './sampling.ts';
import type { SimEvent } from './sinks/sink.ts';
import type { Grade, World } from './world/types.ts';

export type Device = SearchImpression['device'];

export interface Shopper {
  /** null for a shopper who is not logged in. */
  readonly userId: string | null;
  readonly device: Device;
}

/** Results per page by device, as storefront grids commonly are (4×6 on desktop, 2×6 on phones). */
export const pageSizeByDevice: Readonly<Record<Device, number>> = {
  DESKTOP: 24,
  TABLET: 24,
  MOBILE: 12,
  APP: 12,
  OTHER: 24,
};

/**
 * How a session unfolds in time. Medians and spreads of log-normal delays, in seconds: dwell times on
 * product pages are log-normal with a heavy tail (Liu, White & Dumais, "Understanding web browsing
 * behaviors through Weibull analysis of dwell time", SIGIR 2010, fit a similar shape).
 */
export const sessionTiming = {
  /** P(another search after this one): searches per session are 1 + geometric, mean 1 / (1 − p). */
  anotherSearch: 0.45,
  maxSearches: 6,
  /** Between searches of a session. */
  thinkSeconds: { median: 20, sigma: 0.7 },
  /** Reading the page before the first look at results. */
  firstLookSeconds: { median: 2, sigma: 0.5 },
  /** Scanning one result. */
  perResultSeconds: 0.8,
  /** On a product page after a click; the cart happens during it. */
  dwellSeconds: { median: 30, sigma: 0.9 },
  nextPageSeconds: { median: 3, sigma: 0.4 },
  /** From the last search to the order. */
  checkoutSeconds: { median: 90, sigma: 0.6 },
} as const;

export interface SessionEnvironment {
  readonly world: World;
  readonly retrieval: Retrieval;
  readonly ranker: Ranker;
  readonly clickModel: ClickModelParams;
  /** Draws an index into world.queries. */
  readonly querySampler: WeightedSampler;
  /** Overrides pageSizeByDevice. */
  readonly pageSize?: number;
  /** Shown the error of a failed ranking; the session then shows retrieval order. */
  readonly onRankError: (error: unknown) => void;
}

export interface SessionStart {
  readonly sessionId: string;
  readonly shopper: Shopper;
  /** Epoch ms of the first search. */
  readonly startAt: number;
  /** The session's own stream: its behaviour does not depend on other sessions or on scheduling. */
  readonly rng: Rng;
}

/** What happens next in a session and when: an event, or (event null) a wake-up before searching. */
export interface Step {
  readonly at: number;
  readonly event: SimEvent | null;
}

interface CartLine {
  readonly impressionId: string;
  readonly requestId: string | null;
  readonly query: string;
  readonly normalizedQuery: string;
  readonly productId: string;
  readonly position: number;
  readonly quantity: number;
  readonly grade: Grade;
}

/**
 * One shopper's session as a sequence of timed steps, in time order. The caller resumes it when the
 * previous step's time has come, so the ranker is asked at the moment of the search (a wake-up step
 * comes before each search) and sees every event emitted before it.
 */
export async function* shopperSession(env: SessionEnvironment, start: SessionStart): AsyncGenerator<Step, void> {
  const { rng, sessionId, shopper } = start;
  const { world, clickModel } = env;
  const pageSize = env.pageSize ?? pageSizeByDevice[shopper.device];
  const seconds = (d: { median: number; sigma: number }) => Math.round(rng.logNormal(d.median, d.sigma) * 1000);
  const cart: CartLine[] = [];
  let t = start.startAt;

  const searches = Math.min(sessionTiming.maxSearches, 1 + rng.geometric(1 - sessionTiming.anotherSearch));
  for (let s = 0; s < searches; s++) {
    if (s > 0) t += seconds(sessionTiming.thinkSeconds);
    yield { at: t, event: null };

    const query = world.queries[env.querySampler.sample(rng)]!;
    const candidates = env.retrieval.retrieve(query);
    let ranking: Ranking;
    try {
      ranking = await env.ranker.rank({
        query: query.text,
        normalizedQuery: query.normalized,
        candidates,
        userId: shopper.userId,
        sessionId,
        device: shopper.device,
        rng,
      });
    } catch (error) {
      env.onRankError(error);
      ranking = { productIds: candidates.map((c) => c.productId), requestId: null };
    }
    const order = displayOrder(ranking.productIds, candidates);
    const retrievalScore = env.retrieval.scoresOf(candidates);
    const context = {
      request_id: ranking.requestId,
      query: query.text,
      normalized_query: query.normalized,
      user_id: shopper.userId,
      session_id: sessionId,
    };

    for (let page = 1; (page - 1) * pageSize < order.length; page++) {
      const offset = (page - 1) * pageSize;
      const shown = order.slice(offset, offset + pageSize);
      const impressionId = rng.uuid();
      yield {
        at: t,
        event: {
          type: 'search_impression',
          event: {
            event_id: impressionId,
            occurred_at: t,
            ...context,
            page,
            device: shopper.device,
            items: shown.map((productId, i) => ({
              product_id: productId,
              position: offset + i + 1,
              retrieval_score: retrievalScore.get(productId) ?? null,
            })),
          },
        },
      };

      const outcome = browse(
        shown.map((id) => query.grades.get(id) ?? 0),
        clickModel,
        rng,
      );
      let scanned = 0;
      t += seconds(sessionTiming.firstLookSeconds);
      for (const interaction of outcome.interactions) {
        t += Math.round((interaction.index - scanned + 1) * sessionTiming.perResultSeconds * 1000);
        scanned = interaction.index + 1;
        const productId = shown[interaction.index]!;
        const position = offset + interaction.index + 1;
        const reference = { impression_id: impressionId, ...context, product_id: productId, position };
        yield { at: t, event: { type: 'click', event: { event_id: rng.uuid(), occurred_at: t, ...reference } } };
        const dwell = seconds(sessionTiming.dwellSeconds);
        if (interaction.carted) {
          const quantity = rng.chance(0.85) ? 1 : rng.int(2, 4);
          const at = t + Math.round(dwell * (0.4 + 0.5 * rng.float()));
          yield {
            at,
            event: { type: 'add_to_cart', event: { event_id: rng.uuid(), occurred_at: at, ...reference, quantity } },
          };
          cart.push({
            impressionId,
            requestId: ranking.requestId,
            query: query.text,
            normalizedQuery: query.normalized,
            productId,
            position,
            quantity,
            grade: query.grades.get(productId) ?? 0,
          });
        }
        t += dwell;
      }
      t += Math.round((outcome.examined - scanned) * sessionTiming.perResultSeconds * 1000);
      if (!outcome.reachedEnd || !rng.chance(clickModel.nextPage)) break;
      t += seconds(sessionTiming.nextPageSeconds);
    }
  }

  const bought = cart.filter((line) => rng.chance(clickModel.purchase[line.grade]));
  if (bought.length === 0) return;
  t += seconds(sessionTiming.checkoutSeconds);
  const orderId = rng.uuid();
  for (const line of bought) {
    const product = world.productById.get(line.productId)!;
    yield {
      at: t,
      event: {
        type: 'purchase',
        event: {
          event_id: rng.uuid(),
          occurred_at: t,
          impression_id: line.impressionId,
          request_id: line.requestId,
          query: line.query,
          normalized_query: line.normalizedQuery,
          user_id: shopper.userId,
          session_id: sessionId,
          product_id: line.productId,
          position: line.position,
          order_id: orderId,
          quantity: line.quantity,
          unit_price_minor: product.priceMinor,
          currency: world.currency,
        },
      },
    };
  }
}
