import { createHash } from 'node:crypto';
import type { ValueProblem } from '@searchop/schemas';
import { MAX_ID_LENGTH, stringProblem } from '../validation/event.ts';
import { parseIsoDateTime } from '../validation/timestamps.ts';
import type { UbiDocument } from './ndjson.ts';

/**
 * Maps User Behavior Insights documents (https://github.com/o19s/ubi, schemas 1.x; the OpenSearch
 * UBI plugin's `ubi_queries` and `ubi_events` indices) to SearchOp events in the wire format of
 * POST /v1/events, so that they pass the same validation. Pure.
 *
 * The models differ in grain: UBI logs one `impression` event per shown object, SearchOp one
 * search_impression per result list. So:
 *  - impression events and the query document sharing a query_id in one request become ONE
 *    search_impression (items ordered by position; query text and time from the query document,
 *    else from the events); its event_id is derived from the query_id, so a re-sent request is a
 *    duplicate, and clicks/carts/purchases of that query_id refer to it as their impression_id;
 *  - a query document with `query_response_hit_ids` (UBI 1.3; `query_response_objects_ids` before)
 *    and no impression events becomes a search_impression of those hits at positions 1..n;
 *  - a query document with neither has nothing to record and is rejected, saying so;
 *  - click and click_through → click, add_to_cart → add_to_cart, purchase → purchase; every other
 *    action_name (view, watch, hover, ...) is rejected by name — never dropped silently.
 * Fields: object_id → product_id, position.ordinal → position (shifted to 1-based from
 * `ordinalBase`), session_id (else client_id) → session_id, query_id → request_id, user_query →
 * query. Event ids: the action line's `_id`, else the document's `event_id`, else a UUID derived
 * from the document's text (identical re-sends dedupe). Extra fields are ignored: UBI documents
 * are extensible by design.
 */

export type UbiKind = 'query' | 'event' | 'unknown';

export interface UbiSource {
  readonly line: number;
  readonly kind: UbiKind;
  readonly actionName: string | null;
}

export interface MappedEvent {
  /** A SearchOp event in the wire format of POST /v1/events (`type` plus the Avro fields). */
  readonly event: Record<string, unknown>;
  /** The lines of the documents it was made from. */
  readonly lines: readonly number[];
}

export interface UbiMapping {
  /** Every document, in body order. */
  readonly documents: readonly UbiSource[];
  /** SearchOp events, in event-time order (an impression before the clicks on it). */
  readonly events: readonly MappedEvent[];
  /** Documents that map to no event, by line, with why. */
  readonly rejected: ReadonlyMap<number, readonly ValueProblem[]>;
}

export interface UbiMapOptions {
  /**
   * What `position.ordinal` counts from. UBI's schema says "the nth position" (examples 1, 3, 24),
   * while OpenSearch's UBI data generator — the sample in ../shared/data — writes 0 for the top.
   */
  readonly ordinalBase: 0 | 1;
}

export const SUPPORTED_ACTIONS = ['impression', 'click', 'click_through', 'add_to_cart', 'purchase'] as const;

interface QueryDoc {
  readonly line: number;
  readonly userQuery: string;
  readonly occurredAt: number | undefined;
  readonly session: string | undefined;
  readonly userId: string | null;
  readonly hits: readonly string[] | undefined;
}

interface ShownObject {
  readonly line: number;
  readonly productId: string;
  readonly position: number;
  readonly occurredAt: number;
  readonly session: string | undefined;
  readonly userId: string | null;
  readonly userQuery: string | undefined;
}

interface QueryGroup {
  readonly queryId: string;
  query: QueryDoc | undefined;
  readonly queryLines: number[];
  readonly shown: ShownObject[];
  /** Action-line `_id`s of the impression documents: a document sent twice is one shown object. */
  readonly shownIds: Set<string>;
  readonly duplicateLines: number[];
}

type Doc = Record<string, unknown>;

export function mapUbi(docs: readonly UbiDocument[], options: UbiMapOptions): UbiMapping {
  const documents: UbiSource[] = [];
  const rejected = new Map<number, ValueProblem[]>();
  const groups = new Map<string, QueryGroup>();
  const eventDocs: { doc: UbiDocument; value: Doc; action: string }[] = [];
  const reject = (line: number, errors: ValueProblem[]) => rejected.set(line, errors);
  const groupOf = (queryId: string) => {
    let group = groups.get(queryId);
    if (!group)
      groups.set(
        queryId,
        (group = { queryId, query: undefined, queryLines: [], shown: [], shownIds: new Set(), duplicateLines: [] }),
      );
    return group;
  };

  for (const doc of docs) {
    const value = doc.value;
    if (doc.error !== undefined || !isObject(value)) {
      documents.push({ line: doc.line, kind: 'unknown', actionName: null });
      reject(doc.line, [{ path: '(document)', reason: doc.error ?? 'expected a JSON object' }]);
      continue;
    }
    const kind = kindOf(doc.index, value);
    const actionName = typeof value['action_name'] === 'string' ? value['action_name'] : null;
    documents.push({ line: doc.line, kind, actionName });
    if (kind === 'unknown') {
      reject(doc.line, [
        { path: '(document)', reason: 'neither a UBI query (user_query) nor a UBI event (action_name)' },
      ]);
    } else if (kind === 'query') {
      const parsed = parseQueryDoc(doc.line, value);
      if ('errors' in parsed) reject(doc.line, parsed.errors);
      else {
        const group = groupOf(parsed.queryId);
        group.query ??= parsed.query;
        group.queryLines.push(doc.line);
      }
    } else {
      const action = (actionName ?? '').trim().toLowerCase();
      if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action)) {
        reject(doc.line, [
          {
            path: 'action_name',
            reason: `${JSON.stringify(actionName)} has no SearchOp event; supported: ${SUPPORTED_ACTIONS.join(', ')}`,
          },
        ]);
      } else eventDocs.push({ doc, value, action });
    }
  }

  const events: (MappedEvent & { readonly at: number })[] = [];
  for (const { doc, value, action } of eventDocs) {
    const errors: ValueProblem[] = [];
    const common = parseEventCommon(value, options, errors);
    if (action === 'impression') {
      requireField(errors, 'query_id', common.queryId, 'required for impressions');
      requireField(errors, OBJECT_ID, common.productId, 'required');
      requireField(errors, ORDINAL, common.position, 'required for impressions');
      if (errors.length > 0 || common.occurredAt === undefined) {
        reject(doc.line, errors);
        continue;
      }
      const group = groupOf(common.queryId!);
      if (doc.id !== undefined) {
        if (group.shownIds.has(doc.id)) {
          group.duplicateLines.push(doc.line);
          continue;
        }
        group.shownIds.add(doc.id);
      }
      group.shown.push({
        line: doc.line,
        productId: common.productId!,
        position: common.position!,
        occurredAt: common.occurredAt,
        session: common.session,
        userId: common.userId,
        userQuery: common.userQuery,
      });
      continue;
    }
    const query = common.queryId === undefined ? undefined : groups.get(common.queryId)?.query;
    const session = common.session ?? query?.session;
    if (session === undefined) errors.push({ path: 'session_id', reason: 'required (or client_id)' });
    requireField(errors, OBJECT_ID, common.productId, 'required');
    const extra = action === 'add_to_cart' || action === 'purchase' ? commerceFields(value, action, errors) : {};
    if (errors.length > 0 || common.occurredAt === undefined) {
      reject(doc.line, errors);
      continue;
    }
    events.push({
      at: common.occurredAt,
      lines: [doc.line],
      event: {
        type: action === 'click_through' ? 'click' : action,
        event_id: doc.id ?? stringField(value['event_id']) ?? derivedId(`ubi-event:${JSON.stringify(value)}`),
        occurred_at: common.occurredAt,
        impression_id: common.queryId === undefined ? null : impressionIdOf(common.queryId),
        request_id: common.queryId ?? null,
        query: common.userQuery ?? query?.userQuery ?? null,
        user_id: common.userId ?? query?.userId ?? null,
        session_id: session,
        product_id: common.productId,
        position: common.position ?? null,
        ...extra,
      },
    });
  }

  for (const group of groups.values()) {
    const impression = assembleImpression(group);
    const lines = [...group.queryLines, ...group.shown.map((s) => s.line), ...group.duplicateLines];
    if ('errors' in impression) for (const line of lines) reject(line, impression.errors);
    else events.push({ at: impression.at, lines, event: impression.event });
  }
  // Stable sort: an impression comes before the clicks on it, as it does on the topic's partition.
  events.sort((a, b) => a.at - b.at);
  return { documents, events: events.map(({ event, lines }) => ({ event, lines })), rejected };
}

const OBJECT_ID = 'event_attributes.object.object_id';
const ORDINAL = 'event_attributes.position.ordinal';

/** Says `path` is required when it is absent, unless it was present and already found invalid. */
function requireField(errors: ValueProblem[], path: string, value: unknown, reason: string): void {
  if (value === undefined && !errors.some((e) => e.path === path)) errors.push({ path, reason });
}

function kindOf(index: string | undefined, value: Doc): UbiKind {
  if (index !== undefined) {
    if (/ubi_queries/i.test(index)) return 'query';
    if (/ubi_(log_)?events/i.test(index)) return 'event';
  }
  if ('action_name' in value) return 'event';
  if ('user_query' in value) return 'query';
  return 'unknown';
}

function parseQueryDoc(line: number, value: Doc): { queryId: string; query: QueryDoc } | { errors: ValueProblem[] } {
  const errors: ValueProblem[] = [];
  const queryId = idField(value, 'query_id', errors);
  if (queryId === undefined && !errors.length) errors.push({ path: 'query_id', reason: 'required' });
  const userQuery = value['user_query'];
  if (typeof userQuery !== 'string') errors.push({ path: 'user_query', reason: 'required string' });
  const occurredAt = value['timestamp'] === undefined ? undefined : timestampField(value['timestamp'], errors);
  const hitsValue = value['query_response_hit_ids'] ?? value['query_response_objects_ids'];
  let hits: string[] | undefined;
  if (Array.isArray(hitsValue)) {
    hits = [];
    hitsValue.forEach((hit, i) => {
      const id = stringField(hit);
      const reason = id === undefined ? 'expected a string or integer id' : stringProblem(id, MAX_ID_LENGTH);
      if (reason) errors.push({ path: `query_response_hit_ids.${i}`, reason });
      else hits!.push(id!);
    });
  }
  if (errors.length > 0 || queryId === undefined || typeof userQuery !== 'string') return { errors };
  return {
    queryId,
    query: {
      line,
      userQuery,
      occurredAt,
      session: sessionOf(value),
      userId: stringField(value['user_id']) ?? null,
      hits,
    },
  };
}

interface EventCommon {
  readonly queryId: string | undefined;
  readonly occurredAt: number | undefined;
  readonly session: string | undefined;
  readonly userId: string | null;
  readonly userQuery: string | undefined;
  readonly productId: string | undefined;
  readonly position: number | undefined;
}

function parseEventCommon(value: Doc, options: UbiMapOptions, errors: ValueProblem[]): EventCommon {
  const attributes = isObject(value['event_attributes']) ? value['event_attributes'] : {};
  const object = isObject(attributes['object']) ? attributes['object'] : {};
  const positionDoc = isObject(attributes['position']) ? attributes['position'] : {};
  let position: number | undefined;
  const ordinal = positionDoc['ordinal'];
  if (ordinal !== undefined && ordinal !== null) {
    if (typeof ordinal !== 'number' || !Number.isInteger(ordinal))
      errors.push({ path: ORDINAL, reason: 'expected an integer' });
    else if (ordinal < options.ordinalBase) {
      errors.push({
        path: ORDINAL,
        reason: `must be at least ${options.ordinalBase} (ordinals count from ${options.ordinalBase})`,
      });
    } else position = ordinal + 1 - options.ordinalBase;
  }
  if (value['timestamp'] === undefined) errors.push({ path: 'timestamp', reason: 'required' });
  return {
    queryId: idField(value, 'query_id', errors),
    occurredAt: value['timestamp'] === undefined ? undefined : timestampField(value['timestamp'], errors),
    session: sessionOf(value),
    userId: stringField(value['user_id']) ?? null,
    userQuery: typeof value['user_query'] === 'string' ? value['user_query'] : undefined,
    productId: idField(object, 'object_id', errors, OBJECT_ID),
    position,
  };
}

/** Cart and purchase details have no standard UBI field: read from event_attributes (or its object). */
function commerceFields(value: Doc, action: string, errors: ValueProblem[]): Record<string, unknown> {
  const attributes = isObject(value['event_attributes']) ? value['event_attributes'] : {};
  const object = isObject(attributes['object']) ? attributes['object'] : {};
  const pick = (...names: string[]) => {
    for (const source of [attributes, object]) for (const name of names) if (source[name] != null) return source[name];
    return undefined;
  };
  const out: Record<string, unknown> = {};
  const quantity = pick('quantity');
  if (quantity !== undefined) out['quantity'] = quantity;
  if (action !== 'purchase') return out;

  const orderId = stringField(pick('order_id', 'transaction_id'));
  if (orderId === undefined)
    errors.push({ path: 'event_attributes.order_id', reason: 'required for purchases (or transaction_id)' });
  else out['order_id'] = orderId;
  const currency = pick('currency');
  if (typeof currency !== 'string')
    errors.push({ path: 'event_attributes.currency', reason: 'required for purchases (ISO 4217)' });
  else out['currency'] = currency;
  const minor = pick('unit_price_minor');
  const price = pick('price', 'unit_price');
  if (minor !== undefined) out['unit_price_minor'] = minor;
  else if (typeof price === 'number' && typeof currency === 'string') {
    const digits = minorUnitDigits(currency);
    if (digits === undefined) errors.push({ path: 'event_attributes.currency', reason: 'unknown ISO 4217 currency' });
    else out['unit_price_minor'] = Math.round(price * 10 ** digits);
  } else {
    errors.push({
      path: 'event_attributes.unit_price_minor',
      reason: 'required for purchases (or price in major units with currency)',
    });
  }
  return out;
}

/** Decimal digits of a currency's minor unit per ISO 4217 (EUR 2, JPY 0, KWD 3), as the platform knows them. */
function minorUnitDigits(currency: string): number | undefined {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return undefined;
  }
}

function assembleImpression(
  group: QueryGroup,
): { at: number; event: Record<string, unknown> } | { errors: ValueProblem[] } {
  const { query, shown } = group;
  const first = shown[0];
  const items =
    shown.length > 0
      ? [...shown]
          .sort((a, b) => a.position - b.position)
          .map((s) => ({ product_id: s.productId, position: s.position, retrieval_score: null }))
      : query?.hits?.map((id, i) => ({ product_id: id, position: i + 1, retrieval_score: null }));
  const errors: ValueProblem[] = [];
  if (items === undefined) {
    errors.push({
      path: 'query_response_hit_ids',
      reason: `no results to record: no impression events of query_id ${JSON.stringify(group.queryId)} in this request and no query_response_hit_ids`,
    });
  }
  const userQuery = query?.userQuery ?? shown.find((s) => s.userQuery !== undefined)?.userQuery;
  if (userQuery === undefined) {
    errors.push({
      path: 'user_query',
      reason: `unknown for query_id ${JSON.stringify(group.queryId)}: send its ubi_queries document in the same request, or user_query on the events`,
    });
  }
  const session = shown.find((s) => s.session !== undefined)?.session ?? query?.session;
  if (session === undefined) errors.push({ path: 'session_id', reason: 'required (or client_id)' });
  const at = query?.occurredAt ?? (shown.length > 0 ? Math.min(...shown.map((s) => s.occurredAt)) : undefined);
  if (at === undefined) errors.push({ path: 'timestamp', reason: 'required' });
  if (errors.length > 0) return { errors };
  return {
    at: at!,
    event: {
      type: 'search_impression',
      event_id: impressionIdOf(group.queryId),
      request_id: group.queryId,
      occurred_at: at,
      query: userQuery,
      user_id: query?.userId ?? first?.userId ?? null,
      session_id: session,
      items,
    },
  };
}

/**
 * Epoch milliseconds of a UBI timestamp. UBI says ISO 8601 and OpenSearch wants a zone; streams
 * also carry epoch numbers. A date-time without a zone is read as UTC (the UBI schema's own example
 * "2018-11-13T20:20:39" has none); numbers below 1e11 are epoch seconds (1e11 ms is March 1973,
 * 1e11 s is the year 5138), others epoch milliseconds; numeric strings are read as numbers.
 */
export function parseUbiTimestamp(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return parseUbiTimestamp(Number(value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return Math.round(value < 1e11 ? value * 1000 : value);
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim().replace(' ', 'T');
  return parseIsoDateTime(text) ?? (/^[\d-]+T[\d:.]+$/.test(text) ? parseIsoDateTime(`${text}Z`) : undefined);
}

function timestampField(value: unknown, errors: ValueProblem[]): number | undefined {
  const ms = parseUbiTimestamp(value);
  if (ms === undefined) {
    errors.push({ path: 'timestamp', reason: 'expected an ISO-8601 date-time or epoch seconds/milliseconds' });
  }
  return ms;
}

function idField(source: Doc, name: string, errors: ValueProblem[], path: string = name): string | undefined {
  const raw = source[name];
  if (raw === undefined || raw === null) return undefined;
  const id = stringField(raw);
  const reason = id === undefined ? 'expected a string or integer id' : stringProblem(id, MAX_ID_LENGTH);
  if (reason) {
    errors.push({ path, reason });
    return undefined;
  }
  return id;
}

function sessionOf(value: Doc): string | undefined {
  return stringField(value['session_id']) ?? stringField(value['client_id']);
}

/** Non-empty strings as they are, integers as their decimal text; anything else is absent. */
function stringField(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function isObject(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A fixed namespace (RFC 9562 name-based UUIDs, version 5) for ids this mapping derives.
const NAMESPACE = Buffer.from('6f1d2c58a4b94a0e9a3b5e0c7d8f1a2b', 'hex');

/** RFC 9562 version-5 UUID of `name` in the SearchOp UBI namespace. */
export function derivedId(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The event_id of the search_impression made from a UBI query_id, which its events refer to. */
export function impressionIdOf(queryId: string): string {
  return derivedId(`ubi-query:${queryId}`);
}

/** Where a problem found in a mapped event came from in the UBI document, for the caller's result. */
export function ubiPathOf(eventPath: string, eventType: string): string {
  const field = eventPath.replace(/^items\.\d+\./, '');
  const source = UBI_SOURCES[field];
  return source ?? `${eventType}.${eventPath}`;
}

const UBI_SOURCES: Readonly<Record<string, string>> = {
  event_id: '_id',
  occurred_at: 'timestamp',
  request_id: 'query_id',
  impression_id: 'query_id',
  query: 'user_query',
  normalized_query: 'user_query',
  user_id: 'user_id',
  session_id: 'session_id',
  product_id: OBJECT_ID,
  position: ORDINAL,
  quantity: 'event_attributes.quantity',
  order_id: 'event_attributes.order_id',
  unit_price_minor: 'event_attributes.unit_price_minor',
  currency: 'event_attributes.currency',
};
