import type {
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBListVector,
  DuckDBStructVector,
  DuckDBValue,
  DuckDBVector,
} from '@duckdb/node-api';
import type { SearchImpression } from '@searchop/schemas';
import { EVENT_ORDER, type ReplayStep } from './backfill.ts';
import { datePartitions, type Period } from './period.ts';
import { sqlString } from './store.ts';

/**
 * Every event the replay needs, as one table (replayEventsSql): the catalogue from its beginning (a
 * product's entry may be older than the warm-up), behaviour from the start of the warm-up, nothing at
 * or after the last example; impressions to turn into examples carry their group and labels (table
 * backfill_groups). build-data writes it once to a Parquet file (writeReplayEvents), so the store's
 * many small files are scanned once rather than by every backfill worker, and each worker streams it
 * in the replay's order (replaySteps): occurred_at, then catalogue < impression < click < cart <
 * purchase, then Kafka partition and offset. DuckDB sorts (spilling to disk when the events outgrow
 * its memory limit) and the trainer holds one chunk of rows at a time.
 */
export function replayEventsSql(period: Period): string {
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
    UNION ALL BY NAME ${behaviour('purchases', 'purchase', ', order_id, quantity, unit_price_minor::DOUBLE AS unit_price_minor, currency')}`;
}

/** The replay's order of the events table (see replayEventsSql). */
export const REPLAY_ORDER = 'ORDER BY ts, kind, part, off';

/** Writes the events of the replay (replayEventsSql, in the offline store's DuckDB) to a Parquet file; returns its row count. */
export async function writeReplayEvents(connection: DuckDBConnection, period: Period, file: string): Promise<number> {
  const result = await connection.run(`COPY (${replayEventsSql(period)}) TO ${sqlString(file)} (FORMAT parquet)`);
  return result.rowsChanged;
}

/**
 * A chunk of the stream read a column at a time: each step reads only the columns of its event type
 * straight from DuckDB's vectors (a row object of every column of the union, converted value by
 * value, was most of the stream's cost). Scalars come as getItem gives them: VARCHAR → string,
 * INTEGER/DOUBLE → number, BIGINT → bigint, BOOLEAN → boolean, NULL → null.
 */
interface Columns {
  readonly scalar: (name: string) => DuckDBVector;
  readonly list: (name: string) => DuckDBListVector;
}

const str = (v: DuckDBValue) => v as string;
const optStr = (v: DuckDBValue) => (v ?? null) as string | null;
const num = (v: DuckDBValue) => Number(v);
const optNum = (v: DuckDBValue) => (v === null || v === undefined ? null : Number(v));

/** The fields of each element of a LIST(STRUCT) column, by entry name, read from the list's flat child vectors. */
function structEntries(list: DuckDBListVector, names: readonly string[]): DuckDBVector[] {
  const child = list.childVector as DuckDBStructVector;
  return names.map((name) => child.entryVectorAt(child.type.indexForEntry(name)));
}

/**
 * The replay steps of one chunk of the stream: the events with the fields the feature module reads
 * (fields it never reads, such as a product's attributes, are not loaded and left empty).
 */
export function stepsOf(chunk: DuckDBDataChunk, columnIndex: ReadonlyMap<string, number>): ReplayStep[] {
  const vectors = new Map<string, DuckDBVector>();
  const vector = (name: string) => {
    let v = vectors.get(name);
    if (!v) {
      const index = columnIndex.get(name);
      if (index === undefined) throw new Error(`the replay stream has no column ${name}`);
      vectors.set(name, (v = chunk.getColumnVector(index)));
    }
    return v;
  };
  const columns: Columns = { scalar: vector, list: (name) => vector(name) as DuckDBListVector };
  const kind = columns.scalar('kind');
  const steps: ReplayStep[] = new Array<ReplayStep>(chunk.rowCount);
  for (let r = 0; r < steps.length; r++) steps[r] = stepAt(columns, num(kind.getItem(r)), r);
  return steps;
}

function stepAt(c: Columns, kind: number, r: number): ReplayStep {
  const get = (name: string) => c.scalar(name).getItem(r);
  const occurred_at = num(get('ts'));
  const context = () => ({
    event_id: str(get('event_id')),
    occurred_at,
    request_id: optStr(get('request_id')),
    user_id: optStr(get('user_id')),
    session_id: str(get('session_id')),
  });
  switch (kind) {
    case EVENT_ORDER.product_change: {
      const upsert = get('op') === 'UPSERT' && get('title') !== null;
      return {
        event: {
          type: 'product_change',
          value: {
            event_id: str(get('event_id')),
            occurred_at,
            product_id: str(get('product_id')),
            op: upsert ? 'UPSERT' : 'DELETE',
            product: upsert
              ? {
                  title: str(get('title')),
                  brand: null,
                  category_path: [],
                  price_minor: optNum(get('price_minor')),
                  currency: null,
                  rating: optNum(get('rating')),
                  review_count: num(get('review_count') ?? 0),
                  available: get('available') !== false,
                  released_at: optNum(get('released_at')),
                  attributes: {},
                }
              : null,
          },
        },
      };
    }
    case EVENT_ORDER.search_impression: {
      const value: SearchImpression = {
        ...context(),
        query: str(get('query')),
        normalized_query: str(get('normalized_query')),
        page: num(get('page') ?? 1),
        device: (get('device') ?? 'OTHER') as SearchImpression['device'],
        items: impressionItems(c.list('items'), r),
      };
      // group_id and labels come from the same row of backfill_groups: both set (an example) or both NULL.
      const groupId = optStr(get('group_id'));
      return groupId !== null
        ? {
            event: { type: 'search_impression', value },
            example: { groupId, labels: exampleLabels(c.list('labels'), r) },
          }
        : { event: { type: 'search_impression', value } };
    }
    default: {
      const base = {
        ...context(),
        impression_id: optStr(get('impression_id')),
        query: optStr(get('query')),
        normalized_query: optStr(get('normalized_query')),
        product_id: str(get('product_id')),
        position: optNum(get('position')),
      };
      if (kind === EVENT_ORDER.click) return { event: { type: 'click', value: base } };
      if (kind === EVENT_ORDER.add_to_cart) {
        return { event: { type: 'add_to_cart', value: { ...base, quantity: num(get('quantity') ?? 1) } } };
      }
      return {
        event: {
          type: 'purchase',
          value: {
            ...base,
            order_id: str(get('order_id')),
            quantity: num(get('quantity') ?? 1),
            unit_price_minor: num(get('unit_price_minor') ?? 0),
            currency: str(get('currency') ?? ''),
          },
        },
      };
    }
  }
}

const ITEM_ENTRIES = ['product_id', 'position', 'retrieval_score'] as const;
const LABEL_ENTRIES = ['product_id', 'label'] as const;

/** An impression's items (never NULL: the schema's items is a required array). */
function impressionItems(list: DuckDBListVector, r: number): SearchImpression['items'] {
  const [ids, positions, scores] = structEntries(list, ITEM_ENTRIES);
  const offset = list.getEntryOffset(r);
  const items = new Array<SearchImpression['items'][number]>(list.getEntryLength(r));
  for (let i = 0; i < items.length; i++) {
    items[i] = {
      product_id: ids!.getItem(offset + i) as string,
      position: positions!.getItem(offset + i) as number,
      retrieval_score: scores!.getItem(offset + i) as number | null,
    };
  }
  return items;
}

function exampleLabels(list: DuckDBListVector, r: number): Map<string, number> {
  const [ids, labels] = structEntries(list, LABEL_ENTRIES);
  const offset = list.getEntryOffset(r);
  const length = list.getEntryLength(r);
  const map = new Map<string, number>();
  for (let i = 0; i < length; i++) {
    map.set(ids!.getItem(offset + i) as string, Number(labels!.getItem(offset + i)));
  }
  return map;
}

/** Streams the replay steps of an events file (writeReplayEvents) in the replay's order, one DuckDB chunk of rows at a time. */
export async function* replaySteps(connection: DuckDBConnection, eventsFile: string): AsyncGenerator<ReplayStep[]> {
  const result = await connection.stream(`SELECT * FROM read_parquet(${sqlString(eventsFile)}) ${REPLAY_ORDER}`);
  const columnIndex = new Map(result.columnNames().map((name, i) => [name, i]));
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    yield stepsOf(chunk, columnIndex);
  }
}
