import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import { JsonLinesAssembler } from './jsonl-records.ts';

/**
 * The I/O edge of the loader: each reader streams a file record by record (never the whole file
 * in memory: a pull-based async iterator, so a slow consumer pauses the read), optionally
 * gzip-compressed. A record that cannot be read is yielded as `unreadable` with its position and
 * counts as a rejected row; a file that cannot be read at all throws PRD_INPUT_INVALID.
 */

export const sourceFormats = ['csv', 'jsonl', 'parquet'] as const;
export type SourceFormat = (typeof sourceFormats)[number];

export type SourceRecord =
  | { readonly kind: 'header'; readonly columns: readonly string[] }
  | { readonly kind: 'row'; readonly position: number; readonly values: Record<string, unknown> }
  | { readonly kind: 'unreadable'; readonly position: number; readonly reason: string; readonly detail?: string };

export interface Source {
  readonly path: string;
  readonly format: SourceFormat;
  readonly gzip: boolean;
  /** What a record's position counts: physical lines (CSV, JSON Lines) or rows (Parquet), from 1. */
  readonly positionLabel: 'line' | 'row';
  records(): AsyncIterable<SourceRecord>;
}

export interface SourceOptions {
  readonly format?: SourceFormat;
  /** CSV only; "," by default, a tab for .tsv files. */
  readonly delimiter?: string;
}

/**
 * Format and compression from the file name: `.csv`/`.tsv`, `.jsonl`/`.ndjson`, `.parquet`, each
 * optionally `.gz`. Not `.json`: that is as often one array as one object a line.
 */
export function detectFormat(path: string): { format: SourceFormat | undefined; gzip: boolean; tsv: boolean } {
  const lower = path.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const ext = base.slice(base.lastIndexOf('.') + 1);
  const byExt: Record<string, SourceFormat> = {
    csv: 'csv',
    tsv: 'csv',
    jsonl: 'jsonl',
    ndjson: 'jsonl',
    parquet: 'parquet',
  };
  return { format: byExt[ext], gzip, tsv: ext === 'tsv' };
}

export async function openSource(path: string, options: SourceOptions = {}): Promise<Source> {
  const detected = detectFormat(path);
  const format = options.format ?? detected.format;
  if (format === undefined)
    throw new ProducerError(
      ProducerErrorCode.INPUT_INVALID,
      `cannot tell the format of ${path} from its name; pass --format ${sourceFormats.join('|')}`,
    );
  // Fail now, naming the file, rather than on the first read.
  const handle = await open(path, 'r').catch((cause: unknown) => {
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  });
  await handle.close();
  const base = { path, format, gzip: detected.gzip };
  switch (format) {
    case 'jsonl':
      return { ...base, positionLabel: 'line', records: () => jsonLinesRecords(path, detected.gzip) };
    case 'csv': {
      const delimiter = options.delimiter ?? (detected.tsv ? '\t' : ',');
      return { ...base, positionLabel: 'line', records: () => csvRecords(path, detected.gzip, delimiter) };
    }
    case 'parquet':
      return { ...base, positionLabel: 'row', records: () => parquetRecords(path, detected.gzip) };
  }
}

function byteStream(path: string, gzip: boolean): Readable {
  const file = createReadStream(path);
  if (!gzip) return file;
  const gunzip = createGunzip();
  file.on('error', (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

function readError(path: string, where: string, cause: unknown): ProducerError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ProducerError(ProducerErrorCode.INPUT_INVALID, `cannot read ${path} ${where}: ${message}`, { cause });
}

async function* jsonLinesRecords(path: string, gzip: boolean): AsyncGenerator<SourceRecord> {
  const input = byteStream(path, gzip);
  const lines = createInterface({ input, crlfDelay: Infinity });
  const assembler = new JsonLinesAssembler();
  let position = 0;
  try {
    for await (const line of lines) {
      position++;
      yield* assembler.push(line, position);
    }
  } catch (cause) {
    throw readError(path, `after line ${position}`, cause);
  } finally {
    lines.close();
    input.destroy();
  }
  yield* assembler.end();
}

async function* csvRecords(path: string, gzip: boolean, delimiter: string): AsyncGenerator<SourceRecord> {
  const skipped: CsvError[] = [];
  const parser = parseCsv({
    bom: true,
    delimiter,
    info: true,
    // A row with too few or too many fields is one bad row, reported with its line, not the end of the load.
    relax_column_count: true,
    // A quote inside an unquoted field (12" screen) is text, not an error.
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // Bounds memory when an unclosed quote would otherwise gather the rest of the file into one field.
    max_record_size: 16 * 1024 * 1024,
    on_skip: (error) => {
      if (error) skipped.push(error);
    },
  });
  const input = byteStream(path, gzip);
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);

  let header: string[] | undefined;
  let lastLine = 0;
  // csv-parse counts a CR LF inside a quoted field as two lines (each character ends one); the
  // surplus so far is taken off its line numbers so that positions match what an editor shows.
  let surplus = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      for (const error of skipped.splice(0)) yield csvUnreadable(error, surplus);
      const { record, info } = item;
      let breaks = 0;
      let breakCharacters = 0;
      for (const field of record) {
        breaks += field.match(/\r\n|\r|\n/g)?.length ?? 0;
        breakCharacters += field.match(/[\r\n]/g)?.length ?? 0;
      }
      surplus += breakCharacters - breaks;
      // info.lines is where the record ends; one with quoted line breaks starts that many lines earlier.
      lastLine = info.lines - surplus;
      const position = lastLine - breaks;
      if (header === undefined) {
        header = checkHeader(path, record);
        yield { kind: 'header', columns: header };
        continue;
      }
      if (record.length !== header.length) {
        yield {
          kind: 'unreadable',
          position,
          reason: 'wrong number of fields',
          detail: `${record.length} fields, the header has ${header.length}`,
        };
        continue;
      }
      const values: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) values[header[i]!] = record[i];
      yield { kind: 'row', position, values };
    }
  } catch (cause) {
    throw readError(path, `after line ${lastLine}`, cause);
  } finally {
    input.destroy();
    parser.destroy();
  }
  for (const error of skipped.splice(0)) yield csvUnreadable(error, surplus);
  if (header === undefined) throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `${path} has no header row`);
}

function csvUnreadable(error: CsvError, surplus: number): SourceRecord {
  const lines = (error as CsvError & { lines?: number }).lines;
  return {
    kind: 'unreadable',
    position: lines === undefined ? 0 : lines - surplus,
    reason: 'not valid CSV',
    detail: `${error.code}: ${error.message}`,
  };
}

function checkHeader(path: string, record: string[]): string[] {
  const header = record.map((name) => name.trim());
  const seen = new Map<string, number>();
  header.forEach((name, index) => {
    if (name === '')
      throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `${path}: header column ${index + 1} has no name`);
    const earlier = seen.get(name);
    if (earlier !== undefined)
      throw new ProducerError(
        ProducerErrorCode.INPUT_INVALID,
        `${path}: header names column "${name}" twice (columns ${earlier + 1} and ${index + 1})`,
      );
    seen.set(name, index);
  });
  return header;
}

/**
 * Parquet needs random access (the footer first, then one row group at a time), so a gzipped
 * Parquet file is first inflated to a temporary file. Memory holds one row group's rows.
 *
 * hyparquet rather than parquetjs-lite: parquetjs-lite 0.8.7 cannot open a file with a
 * TIMESTAMP_MILLIS column (its statistics decoder passes a BigInt to `+value`), nor read ZSTD,
 * GZIP or Brotli pages, which pyarrow, Polars and Spark write; hyparquet reads them all.
 */
/** Temporary directories holding inflated copies of gzipped Parquet files start with this. */
export const INFLATED_PREFIX = 'catalog-loader-parquet-';

async function* parquetRecords(path: string, gzip: boolean): AsyncGenerator<SourceRecord> {
  let tempDir: string | undefined;
  let file = path;
  try {
    if (gzip) {
      tempDir = await mkdtemp(join(tmpdir(), INFLATED_PREFIX));
      file = join(tempDir, 'input.parquet');
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(file)).catch((cause: unknown) => {
        throw readError(path, 'while inflating it', cause);
      });
    }
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer).catch((cause: unknown) => {
      throw readError(path, 'as Parquet', cause);
    });
    yield { kind: 'header', columns: parquetSchema(metadata).children.map((c) => c.element.name) };
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors });
      } catch (cause) {
        throw readError(path, `in rows ${rowStart + 1}–${rowEnd}`, cause);
      }
      for (let i = 0; i < rows.length; i++) yield { kind: 'row', position: rowStart + i + 1, values: rows[i]! };
      rowStart = rowEnd;
    }
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}
