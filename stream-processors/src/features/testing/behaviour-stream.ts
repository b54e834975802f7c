import type { RedisClient } from '@searchop/runtime';
import {
  applyIncrements,
  decodeState,
  emptyState,
  fenceSource,
  incrementsOf,
  keyLayout,
  PAIR_FENCES_FIELD,
  tileEntries,
  topics,
  type BehaviourEvent,
  type EntityState,
  type SearchImpression,
} from '@searchop/schemas';
import { locationName, locationOf } from '@searchop/schemas/testing';
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

/**
 * The reference: the TypeScript tile code applied to every event once, by locationName. A product's,
 * a query's and the global counters carry their fences; a pair carries none: its query's pairs hash
 * has one fences field for all its pairs (the highest offset per source of an event with a pair in it).
 */
export function expectedStates(
  prefix: string,
  events: readonly SourcedEvent<BehaviourEvent>[],
): Map<string, EntityState> {
  const keys = keyLayout(prefix);
  const states = new Map<string, EntityState>();
  const stateAt = (name: string) => {
    let state = states.get(name);
    if (!state) states.set(name, (state = emptyState()));
    return state;
  };
  for (const { spec, partition, offset, event } of events) {
    const source = fenceSource(spec, partition);
    for (const { entity, increment } of incrementsOf(event)) {
      const location = keys.counters(entity);
      applyIncrements(stateAt(locationName(location)), [increment]);
      const fenced =
        location.field === undefined
          ? locationName(location)
          : locationName({ key: location.key, field: PAIR_FENCES_FIELD });
      const { fences } = stateAt(fenced);
      fences.set(source, Math.max(fences.get(source) ?? -1, offset));
    }
  }
  return states;
}

/**
 * The states at the given locationNames (an absent value: an empty state), read in pipelined chunks of
 * `chunk` locations: a GET per key, and one HMGET per pairs hash for the chunk's fields of it (ioredis
 * auto-pipelining sends each chunk together, on a cluster one pipeline per node).
 */
export async function readStates(
  redis: RedisClient,
  names: Iterable<string>,
  chunk = 10_000,
): Promise<Map<string, EntityState>> {
  const all = [...names];
  const out = new Map<string, EntityState>();
  for (let start = 0; start < all.length; start += chunk) {
    const reads: Promise<void>[] = [];
    const hashes = new Map<string, string[]>();
    for (const name of all.slice(start, start + chunk)) {
      const { key, field } = locationOf(name);
      if (field === undefined) {
        reads.push(redis.getBuffer(key).then((value) => void out.set(name, decodeState(value) ?? emptyState())));
        continue;
      }
      let fields = hashes.get(key);
      if (!fields) hashes.set(key, (fields = []));
      fields.push(field);
    }
    for (const [key, fields] of hashes) {
      reads.push(
        redis
          .hmgetBuffer(key, ...fields)
          .then((values) =>
            fields.forEach((field, i) => out.set(locationName({ key, field }), decodeState(values[i]) ?? emptyState())),
          ),
      );
    }
    await Promise.all(reads);
  }
  return out;
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
