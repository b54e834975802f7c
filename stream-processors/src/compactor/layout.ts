/**
 * # Offline store layout
 *
 * ```
 * <root>/topic=<topic id>/date=YYYY-MM-DD/hour=HH/part-<kafka partition>-<first offset>-<last offset>.parquet
 * ```
 *
 * Hive-style keys, so DuckDB (`read_parquet('<root>/topic=clicks/**\/*.parquet', hive_partitioning = true)`),
 * pyarrow datasets and Spark prune by topic, date and hour without opening files.
 *
 * **Event time, not Kafka time.** `date`/`hour` are the UTC hour of the event's `occurred_at`.
 * The trainer asks "what happened between Monday and Sunday" in event time (that is what
 * attribution windows and time-based train/validation splits mean), and the Kafka timestamp is
 * when a producer sent the record: a mobile app flushing an hour of offline events, a collector
 * retrying, a backfill replaying last month would all land in the wrong hour. Each row still
 * carries `kafka_timestamp`.
 *
 * **Late events** go to the partition of their own hour, in a new file: a directory is never
 * "closed", files are only ever added. A query over an hour sees its late events as soon as their
 * file is written; nothing is rewritten, so a reader never sees a file change.
 *
 * **Segments and exactly-once.** One hand-over of a Kafka partition's records is one segment: the
 * offsets `first..last` of the events it holds, written as one file in each hour directory its
 * events fall into, all with the same name `part-<p>-<first>-<last>.parquet`. A segment is
 * written as temporary files (`.<name>.tmp`, which readers ignore), each fsynced, the directories
 * fsynced (the temporary names are durable too), then renamed into place, then the directories
 * fsynced again; offsets are committed to Kafka only after that.
 * On start, a temporary file whose segment already has a file in place is renamed too (the crash
 * hit between the renames, after every temporary file was complete); any other temporary file is
 * deleted. So the files on disk always hold whole segments, and the resume position of a Kafka
 * partition is the largest `last + 1` among its files: the files, not the committed offset, say
 * what is stored, and a replay after a crash starts right after them (see run-consumer's
 * `resumeFrom`), so no range is written twice. Every row also carries `kafka_partition` and
 * `kafka_offset`, which identify it.
 */

export interface HourPartition {
  /** YYYY-MM-DD, UTC. */
  readonly date: string;
  /** 00-23, UTC. */
  readonly hour: string;
}

export interface SegmentName {
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export function hourPartitionOf(occurredAtMs: number): HourPartition {
  const iso = new Date(occurredAtMs).toISOString();
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** The directory of a topic's table, relative to the store root. */
export function topicDir(topicId: string): string {
  return `topic=${topicId}`;
}

/** The directory of one hour of a topic, relative to the store root. */
export function hourDir(topicId: string, { date, hour }: HourPartition): string {
  return `${topicDir(topicId)}/date=${date}/hour=${hour}`;
}

export function segmentFileName({ partition, firstOffset, lastOffset }: SegmentName): string {
  return `part-${partition}-${firstOffset}-${lastOffset}.parquet`;
}

/** A leading dot hides the file from Hive-style readers (and from `*.parquet` globs). */
export function tempFileName(segment: SegmentName): string {
  return `.${segmentFileName(segment)}.tmp`;
}

const SEGMENT_FILE = /^part-(\d+)-(\d+)-(\d+)\.parquet$/;
const TEMP_FILE = /^\.(part-\d+-\d+-\d+\.parquet)\.tmp$/;

export function parseSegmentFileName(fileName: string): SegmentName | undefined {
  const match = SEGMENT_FILE.exec(fileName);
  if (!match) return undefined;
  const [, partition, first, last] = match as unknown as [string, string, string, string];
  const segment = { partition: Number(partition), firstOffset: Number(first), lastOffset: Number(last) };
  return segment.firstOffset <= segment.lastOffset ? segment : undefined;
}

/** The final file name a temporary file stands for, or undefined when it is not one of ours. */
export function parseTempFileName(fileName: string): string | undefined {
  const match = TEMP_FILE.exec(fileName);
  return match && parseSegmentFileName(match[1] as string) ? match[1] : undefined;
}

/** Per Kafka partition, the offset after the last one stored: where consuming resumes. */
export function resumePositions(segments: Iterable<SegmentName>): Map<number, number> {
  const positions = new Map<number, number>();
  for (const { partition, lastOffset } of segments) {
    positions.set(partition, Math.max(positions.get(partition) ?? 0, lastOffset + 1));
  }
  return positions;
}

/** Rows of one Kafka partition grouped by the UTC hour of their event time, offset order kept within each. */
export function groupByHour<Row>(
  rows: readonly Row[],
  occurredAt: (row: Row) => number,
): { hour: HourPartition; rows: Row[] }[] {
  const groups = new Map<string, { hour: HourPartition; rows: Row[] }>();
  for (const row of rows) {
    const hour = hourPartitionOf(occurredAt(row));
    const key = `${hour.date}T${hour.hour}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { hour, rows: [row] });
  }
  return [...groups.values()];
}
