import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { OfflineRow, OfflineTable } from './avro-to-parquet.ts';

/** Rows per row group: large enough for good compression and pruning, small enough to read one at a time. */
const ROW_GROUP_SIZE = 128 * 1024;

/**
 * Encodes rows as one Parquet file in memory (Snappy, column statistics on, so DuckDB prunes row
 * groups on occurred_at and kafka_offset). `metadata` goes into the footer's key-value metadata.
 */
export function encodeParquet(
  table: OfflineTable<OfflineRow>,
  rows: readonly OfflineRow[],
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  const writer = new ByteWriter();
  // Synchronous with a ByteWriter (only a writer with an async flush returns a promise).
  void parquetWrite({
    writer,
    schema: table.schema,
    columnData: table.columns.map((column) => ({ name: column.name, data: rows.map(column.read) })),
    codec: 'SNAPPY',
    rowGroupSize: ROW_GROUP_SIZE,
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    createdBy: 'searchop compactor (hyparquet-writer)',
  });
  return writer.getBytes();
}
