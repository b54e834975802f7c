import type { SimEvent } from './sinks/sink.ts';

/**
 * Checks the referential integrity of a stream of events, in the order they were produced per
 * session: every click refers to an impression shown earlier in the same session that had the product
 * at that position, with the same query and request id; every add-to-cart follows a click on that
 * product from that impression; every purchase follows an add-to-cart of it; event ids are unique;
 * a session's events do not go back in time. Returns the problems found (empty when consistent).
 * The stream may be cut short (a bounded run): impressions without their clicks are fine.
 */
export function referenceProblems(events: Iterable<SimEvent>, maxProblems = 20): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const impressions = new Map<
    string,
    { session: string; query: string; request: string | null; at: number; positions: Map<number, string> }
  >();
  const clicked = new Set<string>();
  const carted = new Set<string>();
  const lastAt = new Map<string, number>();
  const report = (problem: string) => {
    if (problems.length < maxProblems) problems.push(problem);
  };

  for (const { type, event } of events) {
    if (ids.has(event.event_id)) report(`${type} ${event.event_id}: duplicate event id`);
    ids.add(event.event_id);
    if (type === 'product_change') continue;
    const previous = lastAt.get(event.session_id);
    if (previous !== undefined && event.occurred_at < previous)
      report(`${type} ${event.event_id}: earlier than the previous event of session ${event.session_id}`);
    lastAt.set(event.session_id, event.occurred_at);

    if (type === 'search_impression') {
      impressions.set(event.event_id, {
        session: event.session_id,
        query: event.normalized_query,
        request: event.request_id,
        at: event.occurred_at,
        positions: new Map(event.items.map((item) => [item.position, item.product_id])),
      });
      continue;
    }
    const impression = event.impression_id === null ? undefined : impressions.get(event.impression_id);
    if (!impression) {
      report(`${type} ${event.event_id}: impression ${event.impression_id} was not shown before`);
      continue;
    }
    if (impression.session !== event.session_id) report(`${type} ${event.event_id}: impression of another session`);
    if (impression.query !== event.normalized_query)
      report(`${type} ${event.event_id}: query differs from its impression`);
    if (impression.request !== event.request_id)
      report(`${type} ${event.event_id}: request_id differs from its impression`);
    if (event.occurred_at < impression.at) report(`${type} ${event.event_id}: earlier than its impression`);
    if (event.position === null || impression.positions.get(event.position) !== event.product_id)
      report(`${type} ${event.event_id}: product ${event.product_id} was not at position ${event.position}`);
    const key = `${event.impression_id}|${event.product_id}`;
    switch (type) {
      case 'click':
        clicked.add(key);
        break;
      case 'add_to_cart':
        if (!clicked.has(key)) report(`add_to_cart ${event.event_id}: product was not clicked from that impression`);
        carted.add(key);
        break;
      case 'purchase':
        if (!carted.has(key))
          report(`purchase ${event.event_id}: product was not added to the cart from that impression`);
        break;
    }
  }
  return problems;
}
