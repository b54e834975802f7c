import {
  BIGINT,
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBBigIntVector,
  type DuckDBConnection,
  type DuckDBDoubleVector,
  type DuckDBIntegerVector,
  type DuckDBVarCharVector,
} from '@duckdb/node-api';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC_VERSION } from '@searchop/schemas';
import type { ExampleBlock } from './backfill.ts';
import { sqlString } from './store.ts';

/**
 * The examples of a run, one row per (query group, shown product), in a DuckDB table (spilled to disk
 * by DuckDB when large), from which the training file is written and the validation period read.
 *
 * The training file (the boundary with trainer/python, see searchop_trainer/dataset.py): Parquet with
 * query_id, label, position, timestamp (epoch ms), then one DOUBLE column per feature named and
 * ordered as FEATURE_NAMES (NaN = missing), and key-value metadata searchop.feature_spec_version.
 * The table also keeps normalized_query, product_id and source (log | backfill) for evaluation.
 */
export const EXAMPLES_TABLE = 'examples';

export const featureColumn = (name: string) => `"${name}"`;
export const FEATURE_COLUMNS = FEATURE_NAMES.map(featureColumn).join(', ');

export async function createExamplesTable(connection: DuckDBConnection): Promise<void> {
  await connection.run(`CREATE TABLE ${EXAMPLES_TABLE} (
    query_id VARCHAR NOT NULL, label INTEGER NOT NULL, "position" INTEGER NOT NULL, "timestamp" BIGINT NOT NULL,
    normalized_query VARCHAR, product_id VARCHAR NOT NULL, source VARCHAR NOT NULL,
    ${FEATURE_NAMES.map((name) => `${featureColumn(name)} DOUBLE`).join(', ')})`);
}

const CHUNK_ROWS = 2048;
const FIXED = 7;
const TYPES = [VARCHAR, INTEGER, INTEGER, BIGINT, VARCHAR, VARCHAR, VARCHAR, ...FEATURE_NAMES.map(() => DOUBLE)];

/** Appends example blocks to the examples table a DuckDB data chunk (2,048 rows) at a time. */
export class ExampleWriter {
  readonly #appender: DuckDBAppender;
  readonly #chunk = DuckDBDataChunk.create(TYPES, CHUNK_ROWS);
  readonly #source: string;
  #rows = 0;
  rowsWritten = 0;

  private constructor(appender: DuckDBAppender, source: string) {
    this.#appender = appender;
    this.#source = source;
  }

  static async open(connection: DuckDBConnection, source: 'log' | 'backfill'): Promise<ExampleWriter> {
    return new ExampleWriter(await connection.createAppender(EXAMPLES_TABLE), source);
  }

  write(block: ExampleBlock): void {
    const n = block.productIds.length;
    for (let r = 0; r < n; r++) {
      if (this.#rows === 0) this.#chunk.rowCount = CHUNK_ROWS;
      const row = this.#rows;
      (this.#chunk.getColumnVector(0) as DuckDBVarCharVector).setItem(row, block.groupId);
      (this.#chunk.getColumnVector(1) as DuckDBIntegerVector).setItem(row, block.labels[r]!);
      (this.#chunk.getColumnVector(2) as DuckDBIntegerVector).setItem(row, block.positions[r]!);
      (this.#chunk.getColumnVector(3) as DuckDBBigIntVector).setItem(row, BigInt(block.timestamp));
      (this.#chunk.getColumnVector(4) as DuckDBVarCharVector).setItem(row, block.normalizedQuery);
      (this.#chunk.getColumnVector(5) as DuckDBVarCharVector).setItem(row, block.productIds[r]!);
      (this.#chunk.getColumnVector(6) as DuckDBVarCharVector).setItem(row, this.#source);
      const base = r * FEATURE_COUNT;
      for (let f = 0; f < FEATURE_COUNT; f++) {
        (this.#chunk.getColumnVector(FIXED + f) as DuckDBDoubleVector).setItem(row, block.features[base + f]!);
      }
      if (++this.#rows === CHUNK_ROWS) this.#flushChunk();
    }
  }

  #flushChunk(): void {
    if (this.#rows === 0) return;
    // Flushed before the row count changes: changing it drops the chunk's cached vectors (and their unflushed values).
    for (let c = 0; c < TYPES.length; c++) this.#chunk.getColumnVector(c).flush();
    this.#chunk.rowCount = this.#rows;
    this.#appender.appendDataChunk(this.#chunk);
    this.rowsWritten += this.#rows;
    this.#rows = 0;
  }

  close(): void {
    this.#flushChunk();
    this.#appender.flushSync();
    this.#appender.closeSync();
  }
}

export interface TrainingFileStats {
  readonly rows: number;
  readonly groups: number;
}

/** Keeps the examples (all columns) and the served lists as Parquet for the evaluation after the fit. */
export async function persistExamples(
  connection: DuckDBConnection,
  files: { readonly examples: string; readonly lists: string },
): Promise<void> {
  await connection.run(`COPY ${EXAMPLES_TABLE} TO ${sqlString(files.examples)} (FORMAT parquet)`);
  await connection.run(`COPY lists TO ${sqlString(files.lists)} (FORMAT parquet)`);
}

/** Writes the training file (the Python boundary) from the examples table. */
export async function writeTrainingFile(connection: DuckDBConnection, path: string): Promise<TrainingFileStats> {
  await connection.run(`COPY (
      SELECT query_id, label, "position", "timestamp", ${FEATURE_COLUMNS}
      FROM ${EXAMPLES_TABLE} ORDER BY "timestamp", query_id, "position"
    ) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd,
      KV_METADATA {"searchop.feature_spec_version": ${sqlString(FEATURE_SPEC_VERSION)}})`);
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::DOUBLE AS n, count(DISTINCT query_id)::DOUBLE AS g FROM ${EXAMPLES_TABLE}`,
  );
  const [n, g] = reader.getRowsJS()[0] as [number, number];
  return { rows: n, groups: g };
}
