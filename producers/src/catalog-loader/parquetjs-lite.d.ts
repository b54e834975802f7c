// The package ships no types; these cover the calls the catalogue loader and its tests make. It is
// CommonJS without detectable named exports, so ESM code imports its default export.
declare module 'parquetjs-lite' {
  export interface ParquetFieldOptions {
    type?: string;
    optional?: boolean;
    repeated?: boolean;
    compression?: string;
    fields?: Record<string, ParquetFieldOptions>;
  }

  export interface ParquetSchema {
    readonly fields: Record<string, unknown>;
  }

  export interface ParquetCursor {
    next(): Promise<Record<string, unknown> | null | undefined>;
  }

  export interface ParquetReader {
    getCursor(columns?: string[]): ParquetCursor;
    getRowCount(): number | bigint;
    getSchema(): ParquetSchema;
    close(): Promise<void>;
  }

  export interface ParquetWriter {
    appendRow(row: Record<string, unknown>): Promise<void>;
    setRowGroupSize(rows: number): void;
    close(): Promise<void>;
  }

  const parquet: {
    ParquetSchema: new (fields: Record<string, ParquetFieldOptions>) => ParquetSchema;
    ParquetReader: { openFile(path: string): Promise<ParquetReader> };
    ParquetWriter: {
      openFile(schema: ParquetSchema, path: string, options?: Record<string, unknown>): Promise<ParquetWriter>;
    };
  };
  export default parquet;
}
