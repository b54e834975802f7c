import duckdb from '@duckdb/node-bindings';
import {
  ARRAY,
  BIGINT,
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBBigIntVector,
  type DuckDBConnection,
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
/**
 * The staging table a backfill worker appends to: the examples table's columns, but the feature vector
 * as one DOUBLE[FEATURE_COUNT] array and no source column (always "backfill"). An array column's
 * values are one contiguous child vector, so a whole chunk of feature vectors reaches DuckDB in one
 * copy instead of FEATURE_COUNT × rows single-value writes; BACKFILL_EXAMPLES_SELECT unpacks it into
 * the examples table's columns when the worker writes its file.
 */
export const BACKFILL_STAGING_TABLE = 'backfill_examples';
const STAGING_TYPES = [VARCHAR, INTEGER, INTEGER, BIGINT, VARCHAR, VARCHAR, ARRAY(DOUBLE, FEATURE_COUNT)];
const FEATURES_COLUMN = 6;

export async function createBackfillStagingTable(connection: DuckDBConnection): Promise<void> {
  await connection.run(`CREATE TABLE ${BACKFILL_STAGING_TABLE} (
    query_id VARCHAR NOT NULL, label INTEGER NOT NULL, "position" INTEGER NOT NULL, "timestamp" BIGINT NOT NULL,
    normalized_query VARCHAR, product_id VARCHAR NOT NULL, features DOUBLE[${FEATURE_COUNT}] NOT NULL)`);
}

/** The staging table's rows as rows of the examples table (same columns, same order). */
export const BACKFILL_EXAMPLES_SELECT = `SELECT query_id, label, "position", "timestamp", normalized_query, product_id,
    'backfill' AS source, ${FEATURE_NAMES.map((name, i) => `features[${i + 1}] AS ${featureColumn(name)}`).join(', ')}
  FROM ${BACKFILL_STAGING_TABLE}`;

/** Appends example blocks to the backfill staging table a DuckDB data chunk (2,048 rows) at a time. */
export class ExampleWriter {
  readonly #appender: DuckDBAppender;
  readonly #chunk = DuckDBDataChunk.create(STAGING_TYPES, CHUNK_ROWS);
  /** The chunk's feature vectors, row-major, copied into its array column's child vector on flush. */
  readonly #features = new Float64Array(CHUNK_ROWS * FEATURE_COUNT);
  #vectors: {
    queryId: DuckDBVarCharVector;
    label: DuckDBIntegerVector;
    position: DuckDBIntegerVector;
    timestamp: DuckDBBigIntVector;
    normalizedQuery: DuckDBVarCharVector;
    productId: DuckDBVarCharVector;
  };
  #rows = 0;
  rowsWritten = 0;

  private constructor(appender: DuckDBAppender) {
    this.#appender = appender;
    this.#vectors = this.#columnVectors();
  }

  static async open(connection: DuckDBConnection): Promise<ExampleWriter> {
    return new ExampleWriter(await connection.createAppender(BACKFILL_STAGING_TABLE));
  }

  write(block: ExampleBlock): void {
    const n = block.productIds.length;
    const timestamp = BigInt(block.timestamp);
    for (let r = 0; r < n; r++) {
      const row = this.#rows;
      const v = this.#vectors;
      v.queryId.setItem(row, block.groupId);
      v.label.setItem(row, block.labels[r]!);
      v.position.setItem(row, block.positions[r]!);
      v.timestamp.setItem(row, timestamp);
      v.normalizedQuery.setItem(row, block.normalizedQuery);
      v.productId.setItem(row, block.productIds[r]!);
      this.#features.set(block.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), row * FEATURE_COUNT);
      if (++this.#rows === CHUNK_ROWS) this.#flushChunk();
    }
  }

  /** The chunk's vectors for CHUNK_ROWS rows (setting the row count drops the chunk's cached ones). */
  #columnVectors() {
    this.#chunk.rowCount = CHUNK_ROWS;
    const c = this.#chunk;
    return {
      queryId: c.getColumnVector(0) as DuckDBVarCharVector,
      label: c.getColumnVector(1) as DuckDBIntegerVector,
      position: c.getColumnVector(2) as DuckDBIntegerVector,
      timestamp: c.getColumnVector(3) as DuckDBBigIntVector,
      normalizedQuery: c.getColumnVector(4) as DuckDBVarCharVector,
      productId: c.getColumnVector(5) as DuckDBVarCharVector,
    };
  }

  #flushChunk(): void {
    if (this.#rows === 0) return;
    // Flushed before the row count changes: changing it drops the chunk's cached vectors (and their unflushed values).
    for (let c = 0; c < FEATURES_COLUMN; c++) this.#chunk.getColumnVector(c).flush();
    // No value of the array column or its child is ever NULL (a missing feature is NaN), so the
    // validity masks stay all-valid and only the values are copied.
    const child = duckdb.array_vector_get_child(duckdb.data_chunk_get_vector(this.#chunk.chunk, FEATURES_COLUMN));
    duckdb.copy_data_to_vector(
      child,
      0,
      this.#features.buffer,
      this.#features.byteOffset,
      this.#rows * FEATURE_COUNT * Float64Array.BYTES_PER_ELEMENT,
    );
    this.#chunk.rowCount = this.#rows;
    this.#appender.appendDataChunk(this.#chunk);
    this.rowsWritten += this.#rows;
    this.#rows = 0;
    this.#vectors = this.#columnVectors();
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
