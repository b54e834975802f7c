import type { AddToCart, Click, Purchase, SearchImpression } from '../generated/events.ts';
import type { Counts, Increment } from './tiles.ts';

/** The entities whose counters an event moves. */
export type EntityRef =
  | { readonly kind: 'product'; readonly productId: string }
  | { readonly kind: 'query'; readonly query: string }
  | { readonly kind: 'pair'; readonly query: string; readonly productId: string }
  | { readonly kind: 'global' };

export interface EntityIncrement {
  readonly entity: EntityRef;
  readonly increment: Increment;
}

export type BehaviourEvent =
  | { readonly type: 'search_impression'; readonly value: SearchImpression }
  | { readonly type: 'click'; readonly value: Click }
  | { readonly type: 'add_to_cart'; readonly value: AddToCart }
  | { readonly type: 'purchase'; readonly value: Purchase };

const GLOBAL: EntityRef = { kind: 'global' };

/**
 * What one behavioural event adds to which counters — the one definition of the counters' meaning,
 * used by the stream processor online and by the trainer's backfill offline:
 *  - an impression counts one impression for each shown product, for each (query, product) pair,
 *    one search for the query, and as many impressions globally as products were shown;
 *  - a click / add-to-cart / purchase (one order line) counts one for the product, the pair (when
 *    the event names its query), the query, and globally. Quantities do not multiply the counts:
 *    rates are per impression, and a 10-unit order is one conversion.
 */
export function incrementsOf(event: BehaviourEvent): EntityIncrement[] {
  switch (event.type) {
    case 'search_impression': {
      const { value } = event;
      const at = value.occurred_at;
      const out: EntityIncrement[] = [];
      const seen = new Set<string>();
      for (const item of value.items) {
        // A product listed twice on one page is one impression of it.
        if (seen.has(item.product_id)) continue;
        seen.add(item.product_id);
        out.push({
          entity: { kind: 'product', productId: item.product_id },
          increment: { at, counts: { impressions: 1 } },
        });
        out.push({
          entity: { kind: 'pair', query: value.normalized_query, productId: item.product_id },
          increment: { at, counts: { impressions: 1 } },
        });
      }
      out.push({
        entity: { kind: 'query', query: value.normalized_query },
        increment: { at, counts: { impressions: 1 } },
      });
      out.push({ entity: GLOBAL, increment: { at, counts: { impressions: seen.size } } });
      return out;
    }
    case 'click':
      return interaction(event.value, { clicks: 1 });
    case 'add_to_cart':
      return interaction(event.value, { carts: 1 });
    case 'purchase':
      return interaction(event.value, { purchases: 1 });
  }
}

function interaction(value: Click | AddToCart | Purchase, counts: Partial<Counts>): EntityIncrement[] {
  const at = value.occurred_at;
  const out: EntityIncrement[] = [
    { entity: { kind: 'product', productId: value.product_id }, increment: { at, counts } },
  ];
  const query = value.normalized_query;
  if (query !== null && query !== '') {
    out.push({ entity: { kind: 'pair', query, productId: value.product_id }, increment: { at, counts } });
    out.push({ entity: { kind: 'query', query }, increment: { at, counts } });
  }
  out.push({ entity: GLOBAL, increment: { at, counts } });
  return out;
}
