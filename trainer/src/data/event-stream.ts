import type { DuckDBConnection } from '@duckdb/node-api';
import type { SearchImpression } from '@searchop/schemas';
import { EVENT_ORDER, type ReplayStep } from './backfill.ts';
import { datePartitions, type Period } from './period.ts';

/**
 * Every event the replay needs, in the replay's order (occurred_at, then catalogue < impression <
 * click < cart < purchase, then Kafka partition and offset), streamed from DuckDB a chunk at a time:
 * DuckDB sorts (spilling to disk when the events outgrow its memory limit) and the trainer holds one
 * chunk of rows at a time. The catalogue is read from its beginning (a product's entry may be older
 * than the warm-up); behaviour from the start of the warm-up; nothing at or after the last example.
 * Impressions to turn into examples carry their group and labels (table backfill_groups).
 */
export function replayStreamSql(period: Period): string {
  const behaviour = (view: string, type: 'click' | 'add_to_cart' | 'purchase', extra: string) =>
    `SELECT ${EVENT_ORDER[type]} AS kind, ts, kafka_partition AS part, kafka_offset AS off,
            event_id, impression_id, request_id, query, normalized_query, user_id, session_id, product_id, "position"${extra}
     FROM ${view}
     WHERE ${datePartitions(period.replayFrom, period.examplesTo)} AND ts >= ${period.replayFrom} AND ts < ${period.examplesTo}`;
  return `
    SELECT ${EVENT_ORDER.product_change} AS kind, ts, kafka_partition AS part, kafka_offset AS off,
           event_id, product_id, op, product.title AS title, product.price_minor::DOUBLE AS price_minor,
           product.rating AS rating, product.review_count AS review_count, product.available AS available,
           epoch_ms(product.released_at)::DOUBLE AS released_at
    FROM catalog WHERE ${datePartitions(Number.NEGATIVE_INFINITY, period.examplesTo)} AND ts < ${period.examplesTo}
    UNION ALL BY NAME
    SELECT ${EVENT_ORDER.search_impression} AS kind, i.ts, i.kafka_partition AS part, i.kafka_offset AS off,
           i.event_id, i.request_id, i.query, i.normalized_query, i.user_id, i.session_id, i.page, i.device, i.items,
           g.group_id, g.labels
    FROM impressions i LEFT JOIN backfill_groups g ON g.impression_id = i.event_id
    WHERE ${datePartitions(period.replayFrom, period.examplesTo)} AND i.ts >= ${period.replayFrom} AND i.ts < ${period.examplesTo}
    UNION ALL BY NAME ${behaviour('clicks', 'click', '')}
    UNION ALL BY NAME ${behaviour('add_to_carts', 'add_to_cart', ', quantity')}
    UNION ALL BY NAME ${behaviour('purchases', 'purchase', ', order_id, quantity, unit_price_minor::DOUBLE AS unit_price_minor, currency')}
    ORDER BY ts, kind, part, off`;
}

/** A row of the stream as DuckDB's JS conversion gives it (BIGINT as bigint, lists as arrays, structs as objects). */
type Row = Record<string, unknown>;

const str = (v: unknown) => v as string;
const optStr = (v: unknown) => (v ?? null) as string | null;
const num = (v: unknown) => Number(v);
const optNum = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Fields every behavioural event has. */
function context(row: Row) {
  return {
    event_id: str(row['event_id']),
    occurred_at: num(row['ts']),
    request_id: optStr(row['request_id']),
    user_id: optStr(row['user_id']),
    session_id: str(row['session_id']),
  };
}

/**
 * The replay step of a stream row: the event with the fields the feature module reads (fields it
 * never reads, such as a product's attributes, are not loaded and left empty).
 */
export function stepOf(row: Row): ReplayStep {
  const occurred_at = num(row['ts']);
  switch (num(row['kind'])) {
    case EVENT_ORDER.product_change: {
      const upsert = row['op'] === 'UPSERT' && row['title'] !== null;
      return {
        event: {
          type: 'product_change',
          value: {
            event_id: str(row['event_id']),
            occurred_at,
            product_id: str(row['product_id']),
            op: upsert ? 'UPSERT' : 'DELETE',
            product: upsert
              ? {
                  title: str(row['title']),
                  brand: null,
                  category_path: [],
                  price_minor: optNum(row['price_minor']),
                  currency: null,
                  rating: optNum(row['rating']),
                  review_count: num(row['review_count'] ?? 0),
                  available: row['available'] !== false,
                  released_at: optNum(row['released_at']),
                  attributes: {},
                }
              : null,
          },
        },
      };
    }
    case EVENT_ORDER.search_impression: {
      const value: SearchImpression = {
        ...context(row),
        query: str(row['query']),
        normalized_query: str(row['normalized_query']),
        page: num(row['page'] ?? 1),
        device: (row['device'] ?? 'OTHER') as SearchImpression['device'],
        items: row['items'] as SearchImpression['items'],
      };
      const labels = row['labels'] as { product_id: string; label: number }[] | null;
      return labels
        ? {
            event: { type: 'search_impression', value },
            example: {
              groupId: str(row['group_id']),
              labels: new Map(labels.map((l) => [l.product_id, l.label])),
            },
          }
        : { event: { type: 'search_impression', value } };
    }
    default: {
      const base = {
        ...context(row),
        impression_id: optStr(row['impression_id']),
        query: optStr(row['query']),
        normalized_query: optStr(row['normalized_query']),
        product_id: str(row['product_id']),
        position: optNum(row['position']),
      };
      const kind = num(row['kind']);
      if (kind === EVENT_ORDER.click) return { event: { type: 'click', value: base } };
      if (kind === EVENT_ORDER.add_to_cart) {
        return { event: { type: 'add_to_cart', value: { ...base, quantity: num(row['quantity'] ?? 1) } } };
      }
      return {
        event: {
          type: 'purchase',
          value: {
            ...base,
            order_id: str(row['order_id']),
            quantity: num(row['quantity'] ?? 1),
            unit_price_minor: num(row['unit_price_minor'] ?? 0),
            currency: str(row['currency'] ?? ''),
          },
        },
      };
    }
  }
}

/** Streams the replay steps, one DuckDB chunk of rows at a time. */
export async function* replaySteps(connection: DuckDBConnection, period: Period): AsyncGenerator<ReplayStep[]> {
  const result = await connection.stream(replayStreamSql(period));
  for await (const rows of result.yieldRowObjectJs()) yield rows.map(stepOf);
}
