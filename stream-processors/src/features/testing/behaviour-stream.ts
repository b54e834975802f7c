import {
  applyIncrements,
  emptyState,
  fenceSource,
  incrementsOf,
  keyLayout,
  tileEntries,
  topics,
  type BehaviourEvent,
  type EntityState,
  type SearchImpression,
} from '@searchop/schemas';
import type { SourcedEvent } from '../feature-writer.ts';

/** Test support: a reproducible behaviour stream and the TypeScript reference state it should give. */
export const T0 = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;

/** A deterministic pseudo-random stream of behaviour events over 40 days on two partitions. */
export function eventStream(count: number, partitions = 2): SourcedEvent<BehaviourEvent>[] {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const products = Array.from({ length: 40 }, (_, i) => `p${i}`);
  const queries = ['drill', 'saw', 'paint', 'ladder'];
  const offsets = Array.from({ length: partitions }, () => 0);
  const out: SourcedEvent<BehaviourEvent>[] = [];
  for (let i = 0; i < count; i++) {
    const partition = i % partitions;
    // Mostly increasing time with some late events (up to 2 days back).
    const at = T0 + Math.floor((i / count) * 40 * 24 * HOUR) - (random() < 0.1 ? Math.floor(random() * 48 * HOUR) : 0);
    const q = pick(queries);
    const base = { event_id: `e${i}`, occurred_at: at, request_id: null, user_id: null, session_id: `s${i % 7}` };
    const kind = random();
    let event: BehaviourEvent;
    if (kind < 0.5) {
      event = searchImpression(
        base,
        q,
        'OTHER',
        Array.from({ length: 5 }, () => pick(products)),
      );
    } else {
      const interaction = {
        ...base,
        impression_id: null,
        query: q,
        normalized_query: random() < 0.8 ? q : null,
        product_id: pick(products),
        position: 1,
      };
      event =
        kind < 0.8
          ? { type: 'click', value: interaction }
          : kind < 0.92
            ? { type: 'add_to_cart', value: { ...interaction, quantity: 1 } }
            : {
                type: 'purchase',
                value: { ...interaction, order_id: `o${i}`, quantity: 2, unit_price_minor: 999, currency: 'EUR' },
              };
    }
    const spec =
      event.type === 'search_impression'
        ? topics.impressions
        : event.type === 'click'
          ? topics.clicks
          : event.type === 'add_to_cart'
            ? topics.addToCarts
            : topics.purchases;
    out.push({ spec, partition, offset: offsets[partition]!++, event });
  }
  return out;
}

/** A first-page search impression of `productIds` at positions 1, 2, … (the query already normalised). */
export function searchImpression(
  base: Pick<SearchImpression, 'event_id' | 'occurred_at' | 'request_id' | 'user_id' | 'session_id'>,
  query: string,
  device: SearchImpression['device'],
  productIds: readonly string[],
): BehaviourEvent {
  return {
    type: 'search_impression',
    value: {
      ...base,
      query,
      normalized_query: query,
      page: 1,
      device,
      items: productIds.map((product_id, k) => ({ product_id, position: k + 1, retrieval_score: null })),
    },
  };
}

export /** The reference: the TypeScript tile code applied to every event once. */
function expectedStates(prefix: string, events: readonly SourcedEvent<BehaviourEvent>[]): Map<string, EntityState> {
  const keys = keyLayout(prefix);
  const states = new Map<string, EntityState>();
  for (const { spec, partition, offset, event } of events) {
    for (const { entity, increment } of incrementsOf(event)) {
      const key = keys.counters(entity);
      const state = states.get(key) ?? emptyState();
      applyIncrements(state, [increment]);
      const source = fenceSource(spec, partition);
      state.fences.set(source, Math.max(state.fences.get(source) ?? -1, offset));
      states.set(key, state);
    }
  }
  return states;
}

/** States in a form toEqual compares: tiles sorted, fences sorted. */
export function comparable(states: Map<string, EntityState>) {
  return Object.fromEntries(
    [...states].map(([k, s]) => [
      k,
      {
        tiles: tileEntries(s),
        click: s.lastClickAt,
        purchase: s.lastPurchaseAt,
        fences: [...s.fences].sort((a, b) => a[0] - b[0]),
      },
    ]),
  );
}
