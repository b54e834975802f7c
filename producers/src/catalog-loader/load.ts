import { isSearchOpError } from '@searchop/runtime';
import { SchemaErrorCode, type ProductChange } from '@searchop/schemas';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import type { EmitOutcome } from '../sdk/storefront-client.ts';
import { mapRow } from './map-row.ts';
import { mappedColumns, type Mapping } from './mapping.ts';
import type { Source } from './readers.ts';
import { ReportBuilder, type LoadReport, type MissingColumns } from './report.ts';

export interface LoadProgress {
  readonly rowsRead: number;
  readonly loaded: number;
  readonly rejected: number;
  readonly elapsedMs: number;
}

export interface LoadOptions {
  readonly source: Source;
  readonly mapping: Mapping;
  /** Sends one change and resolves when it is durable: StorefrontClient.emitProductChange, or a no-op for a dry run. */
  readonly emit: (change: ProductChange) => Promise<EmitOutcome>;
  readonly dryRun?: boolean;
  /** The load's start (epoch ms): occurred_at of rows the mapping gives no time for. */
  readonly loadedAt: number;
  /** Encoded records above this are rejected; keep it below the broker's message.max.bytes. */
  readonly maxRecordBytes?: number;
  /** At most this many changes are awaiting Kafka's acknowledgement; reading pauses beyond it. */
  readonly window?: number;
  /** Stop after this many rows (a trial load of a big file). */
  readonly limit?: number;
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressEveryRows?: number;
  /** Stops reading; what was read is still acknowledged (or counted unsent) and reported. */
  readonly signal?: AbortSignal;
  /** Monotonic clock in ms, for the elapsed time. */
  readonly clock?: () => number;
}

export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024;
export const DEFAULT_WINDOW = 2_000;
/**
 * maxBatchSize for the loader's StorefrontClient. The SDK caps batches by count; the broker caps a
 * partition's batch at message.max.bytes (1 MiB by default): 250 products of a few KiB stay well
 * below it, while the SDK's default of 1,000 would not for larger products.
 */
export const PRODUCER_BATCH_SIZE = 250;

/**
 * Reads every record of the source, maps it, and emits the valid ones with at most `window`
 * unacknowledged, so the file is read only as fast as Kafka takes it. Rejected rows are counted
 * with their reasons and never stop the load; a file that turns unreadable, a mapping the header
 * cannot satisfy, or Kafka failing after the SDK's retries stop it, and the report says why.
 * Every row read ends in exactly one of loaded, duplicates, rejected or unsent.
 */
export async function loadCatalog(options: LoadOptions): Promise<LoadReport> {
  const { source, mapping, emit } = options;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const window = options.window ?? DEFAULT_WINDOW;
  const progressEvery = options.progressEveryRows ?? 1_000;
  const context = { loadedAt: options.loadedAt, maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES };
  const report = new ReportBuilder();
  let missingColumns: MissingColumns[] = [];
  let stopped: { code: string; message: string } | undefined;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForRoom = async (limit: number) => {
    while (inFlight > limit) await new Promise<void>((resolve) => (wake = resolve));
  };
  const stop = (error: unknown) => {
    stopped ??= {
      code: isSearchOpError(error) ? error.code : 'UNEXPECTED',
      message: error instanceof Error ? error.message : String(error),
    };
  };

  try {
    for await (const record of source.records()) {
      if (stopped !== undefined) break;
      if (options.signal?.aborted) {
        stop(new ProducerError(ProducerErrorCode.CLOSED, 'interrupted'));
        break;
      }
      if (record.kind === 'header') {
        missingColumns = checkHeader(mapping, record.columns);
        continue;
      }
      if (options.limit !== undefined && report.rowsRead >= options.limit) break;
      report.rowsRead++;
      if (record.kind === 'unreadable') {
        report.reject(record.position, [
          {
            field: '(record)',
            reason: record.reason,
            ...(record.detail === undefined ? {} : { value: record.detail }),
          },
        ]);
      } else {
        const outcome = mapRow(record.values, mapping, context);
        if (!outcome.ok) {
          report.reject(record.position, outcome.errors);
        } else {
          inFlight++;
          const { position } = record;
          let sent: Promise<EmitOutcome>;
          try {
            sent = emit(outcome.change);
          } catch (error) {
            // A sink that throws instead of rejecting must not leave the row counted in flight forever.
            sent = Promise.reject(error instanceof Error ? error : new Error(String(error)));
          }
          sent.then(
            (result) => {
              if (result === 'duplicate') report.duplicates++;
              else {
                report.loaded++;
                report.warn(position, outcome.warnings);
              }
              settled();
            },
            (error: unknown) => {
              // mapRow validates against the same schema, so this is a bug rather than data; still a row's outcome.
              if (isSearchOpError(error, SchemaErrorCode.INVALID_VALUE))
                report.reject(position, [{ field: '(record)', reason: 'refused by the codec', value: error.message }]);
              else stop(error);
              settled();
            },
          );
          await waitForRoom(window - 1);
        }
      }
      if (report.rowsRead % progressEvery === 0)
        options.onProgress?.({
          rowsRead: report.rowsRead,
          loaded: report.loaded,
          rejected: report.rejected,
          elapsedMs: clock() - started,
        });
    }
  } catch (error) {
    // Before the first row nothing has happened: the file (or its header) cannot be loaded at all.
    if (report.rowsRead === 0) throw error;
    stop(error);
  }
  await waitForRoom(0);
  return report.build({
    file: source.path,
    format: `${source.format}${source.gzip ? ', gzip' : ''}`,
    positionLabel: source.positionLabel,
    dryRun: options.dryRun ?? false,
    missingColumns,
    elapsedMs: clock() - started,
    ...(stopped === undefined ? {} : { stopped }),
  });
}

/**
 * A file whose header lacks every column of a required field would reject every row for the same
 * reason: that is a wrong mapping, said once before anything is sent. Optional fields without a
 * column are reported and left empty.
 */
function checkHeader(mapping: Mapping, columns: readonly string[]): MissingColumns[] {
  const present = new Set(columns);
  const has = (column: string) => present.has(column) || present.has(column.split('.')[0]!);
  const missing: MissingColumns[] = [];
  for (const { field, columns: wanted, required } of mappedColumns(mapping)) {
    if (wanted.some(has)) continue;
    if (required)
      throw new ProducerError(
        ProducerErrorCode.INPUT_INVALID,
        `the file has no column for the required field ${field} (mapping ${field}.column: ${wanted.join(', ')}); its columns are: ${preview(columns)}`,
      );
    missing.push({ field, columns: wanted });
  }
  return missing;
}

function preview(columns: readonly string[]): string {
  const shown = columns.slice(0, 30).join(', ');
  return columns.length > 30 ? `${shown}, … (${columns.length} in all)` : shown;
}
