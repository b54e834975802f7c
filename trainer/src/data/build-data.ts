import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { TrainerError, TrainerErrorCode } from '../errors.ts';
import type { DataConfig } from './data-config.ts';
import { createExamplesTable, EXAMPLES_TABLE, persistExamples, writeTrainingFile } from './examples-table.ts';
import { writeReplayEvents } from './event-stream.ts';
import { featureLogStatements } from './feature-log.ts';
import { labelStatements } from './labels.ts';
import { iso, periodOf, type Period } from './period.ts';
import { parallelBackfill } from './parallel-backfill.ts';
import { sqlString, type OfflineStoreDb } from './store.ts';

const PROGRESS_EVERY_MS = 15_000;

export interface BuildDataOptions {
  readonly config: DataConfig;
  /** Where the training file goes. */
  readonly trainingFile: string;
  /** Where the examples (with product ids and queries) and the served lists are kept for evaluation. */
  readonly examplesFile: string;
  readonly listsFile: string;
  /** First instant of the examples (default: end − window_days). */
  readonly since?: number;
  /** End of the data, exclusive (default: just after the newest event in the store). */
  readonly until?: number;
  /** Scratch space for the backfill's intermediate files. */
  readonly scratchDir: string;
  /** Worker threads of the backfill (parallel-backfill.ts); default 1. */
  readonly backfillWorkers?: number;
  readonly onProgress?: (message: string) => void;
}

export interface DataCounts {
  /** Search impressions (result pages) in the example period. */
  readonly impressions: number;
  /** Products shown in them (one per impression and distinct product): the "impressions" of the features. */
  readonly shownProducts: number;
  /** Served lists (query groups) by source, and how many of them had a click. */
  readonly lists: { readonly log: number; readonly backfill: number; readonly withClicks: number };
  /** Rows written to the training file, by source. */
  readonly examples: { readonly log: number; readonly backfill: number };
  readonly groups: number;
  /** Events replayed for the backfill (warm-up included). */
  readonly replayedEvents: number;
}

export interface BuiltData {
  readonly period: Period;
  readonly trainingFile: string;
  readonly files: { readonly examples: string; readonly lists: string };
  readonly counts: DataCounts;
}

/**
 * build-data: labels every product shown in the period (labels.ts), takes the features of the lists the
 * ranker served from its log (feature-log.ts), replays the events for the others (backfill.ts), and
 * writes the training file. The examples (with product ids and queries) and the served lists are
 * written next to it for evaluation (see store.ts openWorkDb).
 */
export async function buildData(db: OfflineStoreDb, options: BuildDataOptions): Promise<BuiltData> {
  const { connection } = db;
  const say = options.onProgress ?? (() => undefined);
  const end = options.until ?? (await newestEvent(connection)) + 1;
  const period = periodOf(options.config, end, options.since);
  if (period.examplesTo <= period.examplesFrom) {
    throw new TrainerError(
      TrainerErrorCode.NO_DATA,
      `no complete example period: examples would span ${iso(period.examplesFrom)} .. ${iso(period.examplesTo)} ` +
        `(data end ${iso(end)} minus the longest attribution window)`,
    );
  }
  say(
    `period: examples ${iso(period.examplesFrom)} .. ${iso(period.examplesTo)}, replay from ${iso(period.replayFrom)}, data end ${iso(end)}`,
  );

  await createExamplesTable(connection);
  for (const sql of labelStatements(options.config, period)) await connection.run(sql);
  const labelled = await one(connection, 'SELECT count(DISTINCT impression_id), count(*) FROM labelled');
  if (labelled[1] === 0) {
    throw new TrainerError(
      TrainerErrorCode.NO_DATA,
      `the offline store has no search impressions between ${iso(period.examplesFrom)} and ${iso(period.examplesTo)}`,
    );
  }
  say(`labelled ${labelled[1]} shown products in ${labelled[0]} impressions`);

  for (const sql of featureLogStatements(options.config, period)) await connection.run(sql);
  const [logLists = 0, backfillLists = 0, withClicks = 0] = await one(
    connection,
    `SELECT count(*) FILTER (WHERE source = 'log'), count(*) FILTER (WHERE source = 'backfill'), count(*) FILTER (WHERE clicked) FROM lists`,
  );
  const [logRows = 0] = await one(connection, "SELECT count(*) FROM examples WHERE source = 'log'");
  const [toBackfill = 0] = await one(connection, 'SELECT count(*) FROM backfill_groups');
  say(
    `lists: ${logLists} from the feature log (${logRows} examples), ${backfillLists} to backfill (${toBackfill} kept)`,
  );

  let replayed = 0;
  let backfillRows = 0;
  let groups: number;
  const files = { examples: options.examplesFile, lists: options.listsFile };
  const scratchFiles: string[] = [];
  try {
    if (toBackfill > 0) {
      const started = Date.now();
      const eventsFile = join(options.scratchDir, 'replay-events.parquet');
      scratchFiles.push(eventsFile);
      const toReplay = await writeReplayEvents(connection, period, eventsFile);
      say(`backfill: ${toReplay} events to replay, written to ${eventsFile} (${elapsed(started)})`);
      const workers = Math.max(1, options.backfillWorkers ?? 1);
      say(
        `backfill: ${workers} worker${workers === 1 ? '' : 's'}, each replaying the events for its share of the products`,
      );
      let nextReport = Date.now() + PROGRESS_EVERY_MS;
      const result = await parallelBackfill({
        settings: db.settings,
        eventsFile,
        outDir: options.scratchDir,
        workers,
        onProgress: (events, rows) => {
          if (Date.now() < nextReport) return;
          nextReport = Date.now() + PROGRESS_EVERY_MS;
          say(`backfill: ${events} events replayed, ${rows} examples (${elapsed(started)})`);
        },
      });
      scratchFiles.push(...result.files);
      // The workers' files are read where they are, not copied into the table: the training file and
      // the examples file are each one pass over them (at 10M examples a copy is ~4 GiB of doubles,
      // beyond DuckDB's memory limit, so it would be spilled to disk and read back).
      await connection.run(`ALTER TABLE ${EXAMPLES_TABLE} RENAME TO logged_examples`);
      await connection.run(
        `CREATE VIEW ${EXAMPLES_TABLE} AS SELECT * FROM logged_examples
       UNION ALL BY NAME SELECT * FROM read_parquet([${result.files.map(sqlString).join(', ')}])`,
      );
      replayed = result.replayed;
      backfillRows = result.rows;
      say(`backfill: ${replayed} events replayed, ${backfillRows} examples in ${elapsed(started)}`);
    }

    const stats = await writeTrainingFile(connection, options.trainingFile);
    if (stats.rows === 0) {
      throw new TrainerError(
        TrainerErrorCode.NO_DATA,
        `no examples: none of the ${logLists + backfillLists} served lists in the period had a click`,
      );
    }
    say(`training file: ${stats.rows} rows in ${stats.groups} groups → ${options.trainingFile}`);
    groups = stats.groups;
    await persistExamples(connection, files);
    if (toBackfill > 0) {
      // The workers' files go with the scratch files: the examples stay readable from the examples file.
      await connection.run(
        `CREATE OR REPLACE VIEW ${EXAMPLES_TABLE} AS SELECT * FROM read_parquet(${sqlString(files.examples)})`,
      );
      await connection.run('DROP TABLE logged_examples');
    }
  } finally {
    await Promise.all(scratchFiles.map((file) => rm(file, { force: true })));
  }
  return {
    period,
    trainingFile: options.trainingFile,
    files,
    counts: {
      impressions: labelled[0]!,
      shownProducts: labelled[1]!,
      lists: { log: logLists, backfill: backfillLists, withClicks },
      examples: { log: logRows, backfill: backfillRows },
      groups,
      replayedEvents: replayed,
    },
  };
}

async function newestEvent(connection: DuckDBConnection): Promise<number> {
  const [newest] = await one(
    connection,
    `SELECT max(ts) FROM (SELECT max(ts) AS ts FROM impressions UNION ALL SELECT max(ts) FROM clicks
       UNION ALL SELECT max(ts) FROM add_to_carts UNION ALL SELECT max(ts) FROM purchases)`,
  );
  if (newest === null || newest === undefined || Number.isNaN(newest)) {
    throw new TrainerError(TrainerErrorCode.NO_DATA, 'the offline store holds no behaviour events');
  }
  return newest;
}

/** The first row of a query, every value as a number (null stays null). */
export async function one(connection: DuckDBConnection, sql: string): Promise<number[]> {
  const reader = await connection.runAndReadAll(sql);
  const row = reader.getRowsJS()[0] ?? [];
  return row.map((v) => (v === null ? (null as unknown as number) : Number(v)));
}

function elapsed(startedMs: number): string {
  return `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
}
