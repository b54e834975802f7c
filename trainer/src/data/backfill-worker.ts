import { mkdir } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { SearchOpError } from '@searchop/runtime';
import { TrainerErrorCode } from '../errors.ts';
import { Backfill } from './backfill.ts';
import { replaySteps } from './event-stream.ts';
import { BACKFILL_EXAMPLES_SELECT, createBackfillStagingTable, ExampleWriter } from './examples-table.ts';
import type { WorkerMessage, WorkerTask } from './parallel-backfill.ts';
import { FeatureReplay } from './replay.ts';
import { openScratchDb, sqlString } from './store.ts';

/**
 * One worker of the parallel backfill (parallel-backfill.ts): replays the whole events file in its own
 * DuckDB, computes the examples of its shard of the products and writes them to its Parquet file.
 */
const PROGRESS_EVERY_MS = 5_000;
const task = workerData as WorkerTask;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

try {
  await mkdir(task.settings.tempDirectory, { recursive: true });
  const db = await openScratchDb(task.settings);
  try {
    const { connection } = db;
    await createBackfillStagingTable(connection);
    const reader = await db.connect();
    const writer = await ExampleWriter.open(connection);
    let replayed = 0;
    try {
      const backfill = new Backfill(new FeatureReplay(task.shard));
      let nextReport = Date.now() + PROGRESS_EVERY_MS;
      for await (const steps of replaySteps(reader, task.eventsFile)) {
        for (const step of steps) {
          const block = backfill.step(step);
          if (block) writer.write(block);
        }
        replayed += steps.length;
        if (Date.now() >= nextReport) {
          nextReport = Date.now() + PROGRESS_EVERY_MS;
          post({ type: 'progress', replayed, rows: writer.rowsWritten });
        }
      }
    } finally {
      writer.close();
      reader.closeSync();
    }
    await connection.run(`COPY (${BACKFILL_EXAMPLES_SELECT}) TO ${sqlString(task.outFile)} (FORMAT parquet)`);
    post({ type: 'done', replayed, rows: writer.rowsWritten });
  } finally {
    db.close();
  }
} catch (error) {
  post({
    type: 'failed',
    code: error instanceof SearchOpError ? String(error.code) : TrainerErrorCode.BACKFILL_FAILED,
    message: error instanceof Error ? error.message : String(error),
  });
}
