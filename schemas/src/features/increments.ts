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

/** The kind of entity an increment goes to, with its query and product ('' where the kind has none). */
export type IncrementVisitor = (
  kind: EntityRef['kind'],
  query: string,
  productId: string,
  increment: Increment,
) => void;

/**
 * What one behavioural event adds to which counters — the one definition of the counters' meaning,
 * used by the stream processor online and by the trainer's backfill offline:
 *  - an impression counts one impression for each shown product, for each (query, product) pair,
 *    one search for the query, and as many impressions globally as products were shown;
 *  - a click / add-to-cart / purchase (one order line) counts one for the product, the pair (when
 *    the event names its query), the query, and globally. Quantities do not multiply the counts:
 *    rates are per impression, and a 10-unit order is one conversion.
 * Calls `visit` once per (entity, increment), allocating nothing per entity: the increments of one
 * event that carry the same counts are one shared (read-only) object.
 */
export function visitIncrements(event: BehaviourEvent, visit: IncrementVisitor): void {
  switch (event.type) {
    case 'search_impression': {
      const { value } = event;
      const query = value.normalized_query;
      const one: Increment = { at: value.occurred_at, counts: ONE_IMPRESSION };
      const { items } = value;
      // A product listed twice on one page is one impression of it (a set only for long pages).
      const seen = items.length > 16 ? new Set<string>() : undefined;
      let shown = 0;
      for (let i = 0; i < items.length; i++) {
        const productId = items[i]!.product_id;
        if (seen) {
          if (seen.has(productId)) continue;
          seen.add(productId);
        } else {
          let repeated = false;
          for (let j = 0; j < i && !repeated; j++) repeated = items[j]!.product_id === productId;
          if (repeated) continue;
        }
        shown++;
        visit('product', '', productId, one);
        visit('pair', query, productId, one);
      }
      visit('query', query, '', one);
      visit('global', '', '', {
        at: value.occurred_at,
        counts: { impressions: shown, clicks: 0, carts: 0, purchases: 0 },
      });
      return;
    }
    case 'click':
      return interaction(event.value, CLICK, visit);
    case 'add_to_cart':
      return interaction(event.value, CART, visit);
    case 'purchase':
      return interaction(event.value, PURCHASE, visit);
  }
}

// Every counter present, in one order: one object shape for all increments, so that the property
// reads of applyIncrements stay monomorphic.
const ONE_IMPRESSION: Counts = { impressions: 1, clicks: 0, carts: 0, purchases: 0 };
const CLICK: Counts = { impressions: 0, clicks: 1, carts: 0, purchases: 0 };
const CART: Counts = { impressions: 0, clicks: 0, carts: 1, purchases: 0 };
const PURCHASE: Counts = { impressions: 0, clicks: 0, carts: 0, purchases: 1 };

function interaction(value: Click | AddToCart | Purchase, counts: Counts, visit: IncrementVisitor): void {
  const increment: Increment = { at: value.occurred_at, counts };
  const productId = value.product_id;
  visit('product', '', productId, increment);
  const query = value.normalized_query;
  if (query !== null && query !== '') {
    visit('pair', query, productId, increment);
    visit('query', query, '', increment);
  }
  visit('global', '', '', increment);
}

/** An entity reference for a visited increment. */
export function entityRef(kind: EntityRef['kind'], query: string, productId: string): EntityRef {
  switch (kind) {
    case 'product':
      return { kind, productId };
    case 'query':
      return { kind, query };
    case 'pair':
      return { kind, query, productId };
    case 'global':
      return GLOBAL;
  }
}

/** The increments of an event as a list (visitIncrements, for callers that want one). */
export function incrementsOf(event: BehaviourEvent): EntityIncrement[] {
  const out: EntityIncrement[] = [];
  visitIncrements(event, (kind, query, productId, increment) =>
    out.push({ entity: entityRef(kind, query, productId), increment }),
  );
  return out;
}
