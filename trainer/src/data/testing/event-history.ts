import { normalizeQuery, type ProductChange, type SearchImpression } from '@searchop/schemas';
import { EVENT_ORDER, type ReplayEvent, type ReplayStep } from '../backfill.ts';

/**
 * Test support: a small, reproducible shop history in event-time order — catalogue upserts, a title
 * change and a delete, searches with clicks, carts and purchases over several weeks, including events
 * that share an instant — for the backfill's point-in-time tests and the comparison with the stream
 * processor.
 */
export const HISTORY_START = Date.UTC(2026, 2, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;

const WORDS = [
  'cordless',
  'drill',
  'hammer',
  'paint',
  'roller',
  'brush',
  'ladder',
  'steel',
  'saw',
  'blade',
  'led',
  'lamp',
];
const QUERIES = ['Cordless Drill', 'paint roller', 'Ladder', 'saw blade', 'LED lamp', 'steel hammer'];

export interface HistoryOptions {
  readonly days?: number;
  readonly products?: number;
  readonly seed?: number;
}

export function shopHistory(options: HistoryOptions = {}): ReplayEvent[] {
  const days = options.days ?? 40;
  const productCount = options.products ?? 30;
  let seed = options.seed ?? 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const events: ReplayEvent[] = [];
  let id = 0;
  const nextId = (prefix: string) => `${prefix}-${id++}`;

  const product = (i: number, at: number, title?: string): ReplayEvent => ({
    type: 'product_change',
    value: {
      event_id: nextId('c'),
      occurred_at: at,
      product_id: `p${i}`,
      op: 'UPSERT',
      product: {
        title: title ?? `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${i}`,
        brand: null,
        category_path: [],
        price_minor: 500 + i * 37,
        currency: 'EUR',
        rating: i % 4 === 0 ? null : 3 + (i % 3) * 0.5,
        review_count: i * 3,
        available: i % 9 !== 0,
        released_at: i % 2 === 0 ? HISTORY_START - i * DAY : null,
        attributes: {},
      },
    },
  });
  for (let i = 0; i < productCount; i++) events.push(product(i, HISTORY_START));
  events.push(product(3, HISTORY_START + 10 * DAY, 'cordless drill hammer steel'));
  const removal: ProductChange = {
    event_id: nextId('c'),
    occurred_at: HISTORY_START + 20 * DAY,
    product_id: 'p5',
    op: 'DELETE',
    product: null,
  };
  events.push({ type: 'product_change', value: removal });

  for (
    let t = HISTORY_START + MINUTE;
    t < HISTORY_START + days * DAY;
    t += Math.floor(5 * MINUTE + random() * 40 * MINUTE)
  ) {
    const query = pick(QUERIES);
    const sessionId = nextId('s');
    const shown = new Set<number>();
    while (shown.size < 6) shown.add(Math.floor(random() * productCount));
    // A product listed twice on a page happens in real feeds.
    const list = [...shown, ...(random() < 0.05 ? [[...shown][0]!] : [])];
    const impression: SearchImpression = {
      event_id: nextId('i'),
      request_id: random() < 0.5 ? nextId('r') : null,
      occurred_at: t,
      query,
      normalized_query: normalizeQuery(query),
      user_id: null,
      session_id: sessionId,
      page: 1,
      device: 'DESKTOP',
      items: list.map((p, k) => ({
        product_id: `p${p}`,
        position: k + 1,
        retrieval_score: k % 3 === 0 ? null : 10 - k,
      })),
    };
    events.push({ type: 'search_impression', value: impression });
    for (const item of impression.items) {
      // Lower product numbers are more attractive; a click may share the impression's instant.
      if (random() > 0.5 - Number(item.product_id.slice(1)) / (2 * productCount)) continue;
      const at = random() < 0.1 ? t : t + Math.floor(random() * 20 * MINUTE);
      const reference = {
        occurred_at: at,
        impression_id: random() < 0.8 ? impression.event_id : null,
        request_id: impression.request_id,
        query,
        normalized_query: random() < 0.9 ? impression.normalized_query : null,
        user_id: null,
        session_id: sessionId,
        product_id: item.product_id,
        position: item.position,
      };
      events.push({ type: 'click', value: { event_id: nextId('k'), ...reference } });
      if (random() < 0.3) {
        events.push({
          type: 'add_to_cart',
          value: { event_id: nextId('a'), ...reference, occurred_at: at + MINUTE, quantity: 1 },
        });
        if (random() < 0.5) {
          events.push({
            type: 'purchase',
            value: {
              event_id: nextId('o'),
              ...reference,
              occurred_at: at + 5 * MINUTE,
              order_id: nextId('order'),
              quantity: 1,
              unit_price_minor: 999,
              currency: 'EUR',
            },
          });
        }
      }
    }
  }
  return sortReplayOrder(events);
}

/** Event-time order with the backfill's tie rules (stable for events of one type at one instant). */
export function sortReplayOrder(events: ReplayEvent[]): ReplayEvent[] {
  return events
    .map((event, i) => ({ event, i }))
    .sort(
      (a, b) =>
        a.event.value.occurred_at - b.event.value.occurred_at ||
        EVENT_ORDER[a.event.type] - EVENT_ORDER[b.event.type] ||
        a.i - b.i,
    )
    .map(({ event }) => event);
}

/** Replay steps in which each impression `wanted` accepts becomes examples of all its products (label 0). */
export function exampleSteps(
  events: readonly ReplayEvent[],
  wanted: (impression: SearchImpression) => boolean,
): ReplayStep[] {
  return events.map((event) =>
    event.type === 'search_impression' && wanted(event.value)
      ? {
          event,
          example: {
            groupId: event.value.event_id,
            labels: new Map(event.value.items.map((item) => [item.product_id, 0])),
          },
        }
      : { event },
  );
}
