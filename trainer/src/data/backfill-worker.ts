import { mkdir } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { SearchOpError } from '@searchop/runtime';
import { TrainerErrorCode } from '../errors.ts';
import { Backfill } from './backfill.ts';
import { replaySteps } from './event-stream.ts';
import { createExamplesTable, EXAMPLES_TABLE, ExampleWriter } from './examples-table.ts';
import type { WorkerMessage, WorkerTask } from './parallel-backfill.ts';
import { FeatureReplay } from './replay.ts';
import { openOfflineStore, sqlString } from './store.ts';

/**
 * One worker of the parallel backfill (parallel-backfill.ts): replays the whole stream in its own
 * DuckDB, computes the examples of its shard of the products and writes them to its Parquet file.
 */
const PROGRESS_EVERY_MS = 5_000;
const task = workerData as WorkerTask;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

try {
  await mkdir(task.settings.tempDirectory, { recursive: true });
  const store = await openOfflineStore(task.storeRoot, task.settings);
  try {
    const { connection } = store;
    await connection.run(`CREATE TABLE backfill_groups AS SELECT * FROM read_parquet(${sqlString(task.groupsFile)})`);
    await createExamplesTable(connection);
    const reader = await store.connect();
    const writer = await ExampleWriter.open(connection, 'backfill');
    let replayed = 0;
    try {
      const backfill = new Backfill(new FeatureReplay(task.shard));
      let nextReport = Date.now() + PROGRESS_EVERY_MS;
      for await (const steps of replaySteps(reader, task.period)) {
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
    await connection.run(`COPY ${EXAMPLES_TABLE} TO ${sqlString(task.outFile)} (FORMAT parquet)`);
    post({ type: 'done', replayed, rows: writer.rowsWritten });
  } finally {
    store.close();
  }
} catch (error) {
  post({
    type: 'failed',
    code: error instanceof SearchOpError ? String(error.code) : TrainerErrorCode.BACKFILL_FAILED,
    message: error instanceof Error ? error.message : String(error),
  });
}
