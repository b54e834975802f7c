import type { DuckDBConnection } from '@duckdb/node-api';
import { normalizeQuery } from '@searchop/schemas';
import { sqlString } from '../data/store.ts';
import { TrainerError, TrainerErrorCode } from '../errors.ts';

/** True graded relevance: normalised query → product id → grade. */
export type Truth = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * Reads a truth file through DuckDB: the simulator's world truth (truth.jsonl: query,
 * normalized_query, product_id, grade) or a judgments CSV such as the Home Depot one (query,
 * product_id, relevance), gzipped or not. Queries are matched by normalizeQuery, as impressions
 * key them; a grade column is `grade` or `relevance`.
 */
export async function readTruth(connection: DuckDBConnection, path: string): Promise<Truth> {
  const json = /\.(jsonl|ndjson|json)(\.gz)?$/i.test(path);
  const source = json
    ? `read_json_auto(${sqlString(path)}, format = 'newline_delimited')`
    : `read_csv(${sqlString(path)}, header = true, all_varchar = true)`;
  let columns: string[];
  try {
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    columns = described.getRowObjectsJS().map((row) => row['column_name'] as string);
  } catch (cause) {
    throw new TrainerError(
      TrainerErrorCode.STORE_UNREADABLE,
      `cannot read truth file ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const query = columns.includes('normalized_query')
    ? 'normalized_query'
    : columns.includes('query')
      ? 'query'
      : undefined;
  const grade = columns.includes('grade') ? 'grade' : columns.includes('relevance') ? 'relevance' : undefined;
  if (!query || !grade || !columns.includes('product_id')) {
    throw new TrainerError(
      TrainerErrorCode.STORE_UNREADABLE,
      `truth file ${path} needs columns query (or normalized_query), product_id and grade (or relevance); it has ${columns.join(', ')}`,
    );
  }
  const reader = await connection.runAndReadAll(
    `SELECT "${query}"::VARCHAR AS q, product_id::VARCHAR AS p, "${grade}"::DOUBLE AS g FROM ${source}`,
  );
  const truth = new Map<string, Map<string, number>>();
  for (const [q, p, g] of reader.getRowsJS() as [string | null, string | null, number | null][]) {
    if (q === null || p === null || g === null || !Number.isFinite(g)) continue;
    const key = query === 'normalized_query' ? q : normalizeQuery(q);
    let products = truth.get(key);
    if (!products) truth.set(key, (products = new Map<string, number>()));
    products.set(p, Math.max(products.get(p) ?? Number.NEGATIVE_INFINITY, g));
  }
  if (truth.size === 0) throw new TrainerError(TrainerErrorCode.STORE_UNREADABLE, `truth file ${path} grades nothing`);
  return truth;
}
