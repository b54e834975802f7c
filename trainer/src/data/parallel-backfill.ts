import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TrainerError, TrainerErrorCode } from '../errors.ts';
import type { DuckDbSettings } from './store.ts';

/**
 * The backfill on several cores: N worker threads each replay the whole event stream (catalogue,
 * query and global counters are needed by every candidate) but keep product and (query, product)
 * counters and compute examples only for their shard of the products (replay.ts shardOf). The
 * per-product work — window sums of the product's and the pair's tiles for every shown product, and
 * applying their increments — is most of the replay's cost, so it divides by N; reading and decoding
 * the stream and the per-impression work is repeated in each worker. Each worker reads the events file
 * (event-stream.ts writeReplayEvents, written once by build-data) in its own DuckDB and writes its
 * examples to its own Parquet file (columns of the examples table),
 * so nothing but progress counts crosses threads; the union of the files is exactly the examples of
 * one whole replay (a test compares them).
 */
export interface ParallelBackfillOptions {
  readonly settings: DuckDbSettings;
  /** The replay's events, impressions to learn from carrying their group and labels (writeReplayEvents). */
  readonly eventsFile: string;
  /** Directory for the workers' example files and DuckDB spill directories. */
  readonly outDir: string;
  readonly workers: number;
  readonly onProgress?: (replayed: number, rows: number) => void;
}

export interface ParallelBackfillResult {
  /** Events replayed (by each worker: the stream's length). */
  readonly replayed: number;
  readonly rows: number;
  /** The workers' example files (examples-table columns). */
  readonly files: readonly string[];
}

/** What the coordinator tells a worker (backfill-worker.ts). */
export interface WorkerTask {
  readonly settings: DuckDbSettings;
  readonly eventsFile: string;
  readonly outFile: string;
  readonly shard: { readonly index: number; readonly count: number };
}

/** What a worker posts back. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly replayed: number; readonly rows: number }
  | { readonly type: 'done'; readonly replayed: number; readonly rows: number }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

const WORKER = new URL('./backfill-worker.ts', import.meta.url);

export async function parallelBackfill(options: ParallelBackfillOptions): Promise<ParallelBackfillResult> {
  const count = options.workers;
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`backfill workers must be ≥ 1, got ${count}`);
  const progress = Array.from({ length: count }, () => ({ replayed: 0, rows: 0 }));
  const report = () =>
    options.onProgress?.(
      Math.min(...progress.map((p) => p.replayed)),
      progress.reduce((sum, p) => sum + p.rows, 0),
    );
  const files = Array.from({ length: count }, (_, index) => join(options.outDir, `backfill-${index}.parquet`));
  const workers: Worker[] = [];
  const runs = files.map((outFile, index) => {
    const task: WorkerTask = {
      settings: {
        ...options.settings,
        threads: 1,
        tempDirectory: join(options.settings.tempDirectory, `worker-${index}`),
      },
      eventsFile: options.eventsFile,
      outFile,
      shard: { index, count },
    };
    const worker = new Worker(WORKER, { workerData: task });
    workers.push(worker);
    return new Promise<{ replayed: number; rows: number }>((resolve, reject) => {
      let done: { replayed: number; rows: number } | undefined;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'failed') {
          reject(new TrainerError(message.code as TrainerErrorCode, `backfill worker ${index}: ${message.message}`));
          return;
        }
        progress[index] = { replayed: message.replayed, rows: message.rows };
        if (message.type === 'done') done = message;
        report();
      });
      worker.on('error', (cause: Error) =>
        reject(
          new TrainerError(TrainerErrorCode.BACKFILL_FAILED, `backfill worker ${index} failed: ${cause.message}`, {
            cause,
          }),
        ),
      );
      worker.on('exit', (code) => {
        if (done) resolve(done);
        else reject(new TrainerError(TrainerErrorCode.BACKFILL_FAILED, `backfill worker ${index} exited (${code})`));
      });
    });
  });
  try {
    const results = await Promise.all(runs);
    const replayed = results[0]!.replayed;
    if (results.some((r) => r.replayed !== replayed)) {
      throw new TrainerError(
        TrainerErrorCode.BACKFILL_FAILED,
        `backfill workers replayed different streams (${results.map((r) => r.replayed).join(', ')} events)`,
      );
    }
    return { replayed, rows: results.reduce((sum, r) => sum + r.rows, 0), files };
  } finally {
    // One worker failing stops the others rather than leaving them replaying.
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
