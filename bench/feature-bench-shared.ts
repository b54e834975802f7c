/**
 * What the feature benchmarks (bench/feature-processor.ts, bench/feature-writer.ts) share: Redis's CPU
 * time, and their storefront mix:
 * 20,000 products and 5,000 queries with a skewed (cubed-uniform) popularity; per 10 events, 5
 * impressions of 12 products, 4 clicks, 1 add-to-cart or purchase. Seeded: the same run gives the same
 * events (ids aside).
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@searchop/runtime';
import type { BehaviourEvent } from '@searchop/schemas';
import { searchImpression } from '../stream-processors/src/features/testing/behaviour-stream.ts';

/** CPU seconds (user + system) Redis has used since it started (INFO cpu; a shared Redis counts every client). */
export async function redisCpuSeconds(redis: RedisClient): Promise<number> {
  const info = await redis.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]);
}

let seed = 1;
export const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
/** Restarts the sequence of `random` (and so of storefrontEvent): the same events again. */
export function reseed(value = 1): void {
  seed = value;
}
const zipf = (n: number) => Math.floor(n * random() ** 3);
/** Event `i` of the mix (its kind follows i mod 10), at event time `at`. */
export function storefrontEvent(i: number, at: number): BehaviourEvent {
  const q = `query ${zipf(5_000)}`;
  const base = {
    event_id: randomUUID(),
    occurred_at: at,
    request_id: null,
    user_id: null,
    session_id: `s${i % 5_000}`,
  };
  const kind = i % 10;
  if (kind < 5) {
    return searchImpression(
      base,
      q,
      'DESKTOP',
      Array.from({ length: 12 }, () => `p${zipf(20_000)}`),
    );
  }
  const interaction = {
    ...base,
    impression_id: null,
    query: q,
    normalized_query: q,
    product_id: `p${zipf(20_000)}`,
    position: 1,
  };
  if (kind < 9) return { type: 'click', value: interaction };
  return random() < 0.5
    ? { type: 'add_to_cart', value: { ...interaction, quantity: 1 } }
    : {
        type: 'purchase',
        value: { ...interaction, order_id: randomUUID(), quantity: 1, unit_price_minor: 999, currency: 'EUR' },
      };
}
