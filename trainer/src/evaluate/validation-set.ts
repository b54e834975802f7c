import type { DuckDBConnection, DuckDBDoubleVector } from '@duckdb/node-api';
import { FEATURE_COUNT } from '@searchop/schemas';
import { one } from '../data/build-data.ts';
import { EXAMPLES_TABLE, FEATURE_COLUMNS } from '../data/examples-table.ts';
import type { Groups } from './metrics.ts';
import type { Truth } from './truth.ts';

/** The validation period's examples in memory: groups in time order, features row-major. */
export interface ValidationSet extends Groups {
  readonly rows: number;
  readonly features: Float64Array;
  readonly productIds: readonly string[];
  /** Normalised query of each group. */
  readonly queries: readonly string[];
  /** Served lists of the period left out of the examples because nothing in them was clicked. */
  readonly listsWithoutClicks: number;
}

/**
 * The examples of the groups served at or after `cutoffMs` — the fit step's validation side: it
 * splits by group time the same way (trainer/python dataset.py time_split) and reports the cut-off.
 */
export async function loadValidationSet(connection: DuckDBConnection, cutoffMs: number): Promise<ValidationSet> {
  const [rowCount] = await one(connection, `SELECT count(*) FROM ${EXAMPLES_TABLE} WHERE "timestamp" >= ${cutoffMs}`);
  const rows = rowCount ?? 0;
  const features = new Float64Array(rows * FEATURE_COUNT);
  const labels = new Int32Array(rows);
  const positions = new Int32Array(rows);
  const productIds: string[] = new Array<string>(rows);
  const starts: number[] = [0];
  const queries: string[] = [];
  const result = await connection.stream(
    `SELECT query_id, normalized_query, product_id, label, "position", ${FEATURE_COLUMNS}
     FROM ${EXAMPLES_TABLE} WHERE "timestamp" >= ${cutoffMs}
     ORDER BY "timestamp", query_id, "position"`,
  );
  let row = 0;
  let previousGroup: string | undefined;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const [groupIds, groupQueries, products, chunkLabels, chunkPositions] = [0, 1, 2, 3, 4].map((c) =>
      chunk.getColumnValues(c),
    ) as [string[], (string | null)[], string[], number[], number[]];
    const vectors = Array.from({ length: FEATURE_COUNT }, (_, f) => chunk.getColumnVector(5 + f) as DuckDBDoubleVector);
    for (let r = 0; r < chunk.rowCount; r++, row++) {
      const group = groupIds[r]!;
      if (previousGroup !== undefined && group !== previousGroup) starts.push(row);
      if (group !== previousGroup) queries.push(groupQueries[r] ?? '');
      previousGroup = group;
      productIds[row] = products[r]!;
      labels[row] = chunkLabels[r]!;
      positions[row] = chunkPositions[r]!;
      const base = row * FEATURE_COUNT;
      for (let f = 0; f < FEATURE_COUNT; f++) features[base + f] = vectors[f]!.getItem(r) ?? Number.NaN;
    }
  }
  if (row > 0) starts.push(row);
  // Lists without a click are in CTR@10's denominator; those written anyway (keep_lists_without_clicks) are groups already.
  const [silent] = await one(
    connection,
    `SELECT count(*) FROM lists WHERE NOT clicked AND ts >= ${cutoffMs}
       AND query_id NOT IN (SELECT query_id FROM ${EXAMPLES_TABLE})`,
  );
  return {
    rows,
    features,
    labels,
    positions,
    productIds,
    starts: Int32Array.from(starts.length > 0 ? starts : [0]),
    queries,
    listsWithoutClicks: silent ?? 0,
  };
}

/** True grade of each validation row (0 for a pair the truth does not grade). */
export function truthGrades(set: ValidationSet, truth: Truth): Float64Array {
  const grades = new Float64Array(set.rows);
  for (let g = 0; g + 1 < set.starts.length; g++) {
    const byProduct = truth.get(set.queries[g]!);
    if (!byProduct) continue;
    for (let r = set.starts[g]!; r < set.starts[g + 1]!; r++) grades[r] = byProduct.get(set.productIds[r]!) ?? 0;
  }
  return grades;
}
