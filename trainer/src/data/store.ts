import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TrainerError, TrainerErrorCode } from '../errors.ts';

/**
 * The offline store (the compactor's Hive-partitioned Parquet, see
 * stream-processors/src/compactor/layout.ts) opened in DuckDB: one view per topic exposing the columns
 * the trainer reads, with `ts` = occurred_at in epoch milliseconds and the `date` partition key for
 * pruning. A topic with no file yet (no ranking log before the ranker first served, say) is an empty
 * view with the same columns, so every query runs unchanged.
 *
 * Why DuckDB from npm rather than Python's: the replay that computes point-in-time features runs the
 * TypeScript feature module (the one the stream processor and the ranker run), so the events have to
 * reach TypeScript in time order; reading them in-process avoids a second serialisation between two
 * runtimes, and the same engine then holds the examples and writes the training file.
 */

interface TopicView {
  readonly view: string;
  /** Directory under the store root (`topic=<id>`). */
  readonly topicId: string;
  /** Column name → DuckDB type, as the compactor's Avro → Parquet mapping stores them. */
  readonly columns: Readonly<Record<string, string>>;
}

const ITEM = 'STRUCT(product_id VARCHAR, "position" INTEGER, retrieval_score DOUBLE)';
const RANKED_ITEM =
  'STRUCT(product_id VARCHAR, "position" INTEGER, score DOUBLE, retrieval_score DOUBLE, features DOUBLE[])';
const PRODUCT =
  'STRUCT(title VARCHAR, brand VARCHAR, price_minor BIGINT, rating DOUBLE, review_count INTEGER, available BOOLEAN, released_at TIMESTAMPTZ)';
const KAFKA = { kafka_partition: 'INTEGER', kafka_offset: 'BIGINT' };
const INTERACTION = {
  event_id: 'VARCHAR',
  occurred_at: 'TIMESTAMPTZ',
  impression_id: 'VARCHAR',
  request_id: 'VARCHAR',
  query: 'VARCHAR',
  normalized_query: 'VARCHAR',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  product_id: 'VARCHAR',
  position: 'INTEGER',
};

export const TOPIC_VIEWS = {
  impressions: {
    view: 'impressions',
    topicId: 'impressions',
    columns: {
      event_id: 'VARCHAR',
      request_id: 'VARCHAR',
      occurred_at: 'TIMESTAMPTZ',
      query: 'VARCHAR',
      normalized_query: 'VARCHAR',
      user_id: 'VARCHAR',
      session_id: 'VARCHAR',
      page: 'INTEGER',
      device: 'VARCHAR',
      items: `${ITEM}[]`,
      ...KAFKA,
    },
  },
  clicks: { view: 'clicks', topicId: 'clicks', columns: { ...INTERACTION, ...KAFKA } },
  addToCarts: {
    view: 'add_to_carts',
    topicId: 'add-to-carts',
    columns: { ...INTERACTION, quantity: 'INTEGER', ...KAFKA },
  },
  purchases: {
    view: 'purchases',
    topicId: 'purchases',
    columns: {
      ...INTERACTION,
      order_id: 'VARCHAR',
      quantity: 'INTEGER',
      unit_price_minor: 'BIGINT',
      currency: 'VARCHAR',
      ...KAFKA,
    },
  },
  catalog: {
    view: 'catalog',
    topicId: 'catalog',
    columns: {
      event_id: 'VARCHAR',
      occurred_at: 'TIMESTAMPTZ',
      product_id: 'VARCHAR',
      op: 'VARCHAR',
      product: PRODUCT,
      ...KAFKA,
    },
  },
  rankingLog: {
    view: 'ranking_log',
    topicId: 'ranking-log',
    columns: {
      request_id: 'VARCHAR',
      occurred_at: 'TIMESTAMPTZ',
      query: 'VARCHAR',
      normalized_query: 'VARCHAR',
      feature_spec_version: 'VARCHAR',
      degraded: 'BOOLEAN',
      items: `${RANKED_ITEM}[]`,
      ...KAFKA,
    },
  },
} as const satisfies Record<string, TopicView>;

export interface DuckDbSettings {
  /** DuckDB's memory limit, e.g. "4GB"; beyond it sorts and joins spill to `tempDirectory`. */
  readonly memoryLimit: string;
  readonly threads: number;
  readonly tempDirectory: string;
}

export interface OfflineStoreDb {
  /** The store's root directory and the settings it was opened with (a backfill worker opens it again). */
  readonly root: string;
  readonly settings: DuckDbSettings;
  readonly connection: DuckDBConnection;
  /** A second connection for a query that streams while the first one writes. */
  connect(): Promise<DuckDBConnection>;
  /** Topics that had at least one file. */
  readonly present: ReadonlySet<keyof typeof TOPIC_VIEWS>;
  close(): void;
}

export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Opens an in-memory DuckDB with a view per topic of the store at `root`. */
export async function openOfflineStore(root: string, settings: DuckDbSettings): Promise<OfflineStoreDb> {
  try {
    await access(root);
  } catch (cause) {
    throw new TrainerError(
      TrainerErrorCode.STORE_UNREADABLE,
      `offline store ${root} does not exist or is not readable`,
      {
        cause,
      },
    );
  }
  const instance = await createInstance(settings);
  const connection = await instance.connect();
  // The store is thousands of small files (one per topic, hour and Kafka partition) read by several
  // queries: their footers are parsed once, when the views are bound, not again by every scan.
  await connection.run('LOAD parquet');
  await connection.run('SET GLOBAL parquet_metadata_cache = true');
  const present = new Set<keyof typeof TOPIC_VIEWS>();
  for (const [key, topic] of Object.entries(TOPIC_VIEWS) as [keyof typeof TOPIC_VIEWS, TopicView][]) {
    const hasFiles = await containsParquet(join(root, `topic=${topic.topicId}`));
    const columns = Object.entries(topic.columns);
    let body: string;
    if (hasFiles) {
      present.add(key);
      const glob = sqlString(join(root, `topic=${topic.topicId}`, '**', '*.parquet'));
      body = `SELECT ${columns.map(([name]) => `"${name}"`).join(', ')}, epoch_ms(occurred_at) AS ts, "date"
        FROM read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`;
    } else {
      body = `SELECT ${columns.map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')},
        NULL::BIGINT AS ts, NULL::DATE AS "date" WHERE false`;
    }
    try {
      await connection.run(`CREATE VIEW ${topic.view} AS ${body}`);
      // Binding the view reads the files' schemas: a column missing from the store fails here, by name.
      await connection.run(`SELECT * FROM ${topic.view} LIMIT 0`);
    } catch (cause) {
      throw new TrainerError(
        TrainerErrorCode.STORE_UNREADABLE,
        `offline store ${root}: cannot read topic ${topic.topicId}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  return {
    root,
    settings,
    connection,
    connect: () => instance.connect(),
    present,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function createInstance(settings: DuckDbSettings): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: settings.tempDirectory,
    // Results come back in the order asked for; nothing here relies on insertion order otherwise.
    preserve_insertion_order: 'false',
  });
}

export interface WorkDb {
  readonly connection: DuckDBConnection;
  close(): void;
}

/** A fresh in-memory DuckDB with no views (a backfill worker reads its events file in it). */
export async function openScratchDb(
  settings: DuckDbSettings,
): Promise<WorkDb & { connect(): Promise<DuckDBConnection> }> {
  const instance = await createInstance(settings);
  const connection = await instance.connect();
  return {
    connection,
    connect: () => instance.connect(),
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * A fresh DuckDB whose views `examples` and `lists` read the files build-data persisted: evaluation
 * runs in it after the fit, so the memory build-data used is not held while LightGBM trains.
 */
export async function openWorkDb(
  files: { readonly examples: string; readonly lists: string },
  settings: DuckDbSettings,
): Promise<WorkDb> {
  const instance = await createInstance(settings);
  const connection = await instance.connect();
  await connection.run(`CREATE VIEW examples AS SELECT * FROM read_parquet(${sqlString(files.examples)})`);
  await connection.run(`CREATE VIEW lists AS SELECT * FROM read_parquet(${sqlString(files.lists)})`);
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

async function containsParquet(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new TrainerError(TrainerErrorCode.STORE_UNREADABLE, `cannot list ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return entries.some((name) => name.endsWith('.parquet') && !name.split('/').some((part) => part.startsWith('.')));
}
