import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Logger } from '@searchop/runtime';
import { StreamProcessorError, StreamProcessorErrorCode } from '../consumer/errors.ts';
import {
  hourDir,
  parseSegmentFileName,
  parseTempFileName,
  resumePositions,
  segmentFileName,
  tempFileName,
  topicDir,
  type HourPartition,
  type SegmentName,
} from './layout.ts';

export interface SegmentFile {
  readonly hour: HourPartition;
  readonly bytes: Uint8Array;
}

export interface PendingSegment {
  readonly topicId: string;
  readonly segment: SegmentName;
  readonly files: readonly SegmentFile[];
}

export interface RecoveryReport {
  /** Temporary files renamed into place: their segment was interrupted between renames. */
  readonly completed: string[];
  /** Temporary files deleted: their segment never reached the renames. */
  readonly discarded: string[];
}

/**
 * The offline store on a local filesystem (see layout.ts for the layout and why it is exactly-once).
 * One compactor owns a root: the resume positions read at open are kept up to date in memory as
 * segments are written, and nothing else writes segments there.
 */
export class OfflineStore {
  readonly root: string;
  readonly #positions: Map<string, Map<number, number>>;
  readonly #logger: Logger;
  /** Directories whose entry in their parent is known to be durable. */
  readonly #durableDirs = new Set<string>();

  private constructor(root: string, positions: Map<string, Map<number, number>>, logger: Logger) {
    this.root = root;
    this.#positions = positions;
    this.#logger = logger;
  }

  /**
   * Opens the store for these topics: finishes or discards the segments a crash interrupted, then
   * reads every topic's resume positions from the file names.
   */
  static async open(root: string, topicIds: readonly string[], logger: Logger): Promise<OfflineStore> {
    const absolute = resolve(root);
    await io(`create ${absolute}`, () => mkdir(absolute, { recursive: true }));
    const positions = new Map<string, Map<number, number>>();
    for (const topicId of topicIds) {
      const { segments, report } = await recoverTopic(join(absolute, topicDir(topicId)));
      if (report.completed.length > 0 || report.discarded.length > 0) {
        logger.warn({ topicId, ...report }, 'recovered segments interrupted by a crash');
      }
      positions.set(topicId, resumePositions(segments));
    }
    return new OfflineStore(absolute, positions, logger);
  }

  /** The offset after the last one stored for this Kafka partition, if any is. */
  resumePosition(topicId: string, partition: number): number | undefined {
    return this.#positions.get(topicId)?.get(partition);
  }

  /**
   * Writes segments durably and resolves only once a crash, even a power loss, can no longer lose
   * them: every file to its temporary name and fsynced, the directories fsynced (the temporary names
   * are durable), every file renamed into place, the directories fsynced again. The phases run over
   * all segments at once so that the fsyncs of a phase overlap (one fsync here costs ~8 ms, fifty
   * in parallel ~1 ms each); recovery needs only that each segment's temporary files are all
   * complete before the first of its renames, which holds since every rename follows every write.
   */
  async writeSegments(segments: readonly PendingSegment[]): Promise<void> {
    const placed: { temp: string; final: string; dir: string; bytes: Uint8Array }[] = [];
    for (const { topicId, segment, files } of segments) {
      for (const file of files) {
        const dir = join(this.root, hourDir(topicId, file.hour));
        await this.#ensureDir(dir);
        placed.push({
          temp: join(dir, tempFileName(segment)),
          final: join(dir, segmentFileName(segment)),
          dir,
          bytes: file.bytes,
        });
      }
    }
    const dirs = [...new Set(placed.map((p) => p.dir))];
    await Promise.all(placed.map(({ temp, bytes }) => fsyncPath(temp, bytes)));
    await Promise.all(dirs.map(fsyncDir));
    await Promise.all(placed.map(({ temp, final }) => io(`rename ${temp}`, () => rename(temp, final))));
    await Promise.all(dirs.map(fsyncDir));
    for (const { topicId, segment } of segments) {
      let topic = this.#positions.get(topicId);
      if (!topic) this.#positions.set(topicId, (topic = new Map<number, number>()));
      topic.set(segment.partition, Math.max(topic.get(segment.partition) ?? 0, segment.lastOffset + 1));
    }
    this.#logger.debug({ segments: segments.length, files: placed.length }, 'segments written');
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#durableDirs.has(dir)) return;
    const created = await io(`create ${dir}`, () => mkdir(dir, { recursive: true }));
    if (created !== undefined) {
      // New directories are durable once each one's entry in its parent is: fsync the parents.
      const parents: string[] = [];
      for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) parents.push(dirname(d));
      await Promise.all(parents.map(fsyncDir));
    }
    this.#durableDirs.add(dir);
  }
}

/** Finishes interrupted segments of one topic and returns every segment on disk. */
async function recoverTopic(dir: string): Promise<{ segments: SegmentName[]; report: RecoveryReport }> {
  const finals = new Set<string>();
  const segments: SegmentName[] = [];
  const temps: { path: string; dir: string; final: string }[] = [];
  for (const hourPath of await hourDirs(dir)) {
    for (const name of await io(`list ${hourPath}`, () => readdir(hourPath))) {
      const segment = parseSegmentFileName(name);
      if (segment) {
        finals.add(name);
        segments.push(segment);
        continue;
      }
      const final = parseTempFileName(name);
      if (final) temps.push({ path: join(hourPath, name), dir: hourPath, final });
    }
  }
  const completed: string[] = [];
  const discarded: string[] = [];
  for (const temp of temps) {
    if (finals.has(temp.final)) {
      await io(`rename ${temp.path}`, () => rename(temp.path, join(temp.dir, temp.final)));
      await fsyncDir(temp.dir);
      segments.push(parseSegmentFileName(temp.final) as SegmentName);
      completed.push(relative(dir, join(temp.dir, temp.final)));
    } else {
      await io(`delete ${temp.path}`, () => unlink(temp.path));
      discarded.push(relative(dir, temp.path));
    }
  }
  return { segments, report: { completed, discarded } };
}

async function hourDirs(topicPath: string): Promise<string[]> {
  let dates;
  try {
    dates = await readdir(topicPath, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw storeError(`list ${topicPath}`, error);
  }
  const result: string[] = [];
  for (const date of dates) {
    if (!date.isDirectory() || !date.name.startsWith('date=')) continue;
    const datePath = join(topicPath, date.name);
    for (const hour of await io(`list ${datePath}`, () => readdir(datePath, { withFileTypes: true }))) {
      if (hour.isDirectory() && hour.name.startsWith('hour=')) result.push(join(datePath, hour.name));
    }
  }
  return result;
}

/** Writes `bytes` to `path` (or, without bytes, opens the directory `path`), fsyncs and closes it. */
async function fsyncPath(path: string, bytes?: Uint8Array): Promise<void> {
  await io(`${bytes ? 'write' : 'fsync'} ${path}`, async () => {
    const handle = await open(path, bytes ? 'w' : 'r');
    try {
      if (bytes) await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

const fsyncDir = (dir: string): Promise<void> => fsyncPath(dir);

async function io<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (cause) {
    throw storeError(what, cause);
  }
}

function storeError(what: string, cause: unknown): StreamProcessorError {
  return new StreamProcessorError(
    StreamProcessorErrorCode.STORE_IO,
    `offline store: cannot ${what}: ${(cause as Error).message}`,
    { cause, retriable: true },
  );
}
