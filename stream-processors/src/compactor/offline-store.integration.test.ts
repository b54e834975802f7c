import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@searchop/runtime';
import { rawSchemaOf, topics } from '@searchop/schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { offlineTableOf, type AvroSchema, type OfflineRow } from './avro-to-parquet.ts';
import { hourDir, segmentFileName, tempFileName, type SegmentName } from './layout.ts';
import { OfflineStore } from './offline-store.ts';
import { encodeParquet } from './parquet-file.ts';
import { duckdb, sampleEvent, storeTable } from './test-support.ts';

const logger = createLogger('test', 'silent');
const table = offlineTableOf(rawSchemaOf(topics.clicks) as AvroSchema);
const hourA = { date: '2025-06-01', hour: '10' };
const hourB = { date: '2025-06-01', hour: '11' };

function parquet(segment: SegmentName, count: number): Uint8Array {
  const rows: OfflineRow[] = Array.from({ length: count }, (_, i) => ({
    value: sampleEvent('clicks', i, Date.UTC(2025, 5, 1, 10), 's-1') as Record<string, unknown>,
    partition: segment.partition,
    offset: segment.firstOffset + i,
    timestamp: Date.UTC(2025, 5, 1, 10),
  }));
  return encodeParquet(table, rows, {});
}

describe('OfflineStore on the local filesystem', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'offline-store-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes segments under their hour and resumes each partition after its last offset', async () => {
    const store = await OfflineStore.open(root, ['clicks'], logger);
    expect(store.resumePosition('clicks', 0)).toBeUndefined();
    const first = { partition: 0, firstOffset: 0, lastOffset: 9 };
    const second = { partition: 0, firstOffset: 10, lastOffset: 14 };
    const other = { partition: 3, firstOffset: 100, lastOffset: 101 };
    await store.writeSegments([
      { topicId: 'clicks', segment: first, files: [{ hour: hourA, bytes: parquet(first, 10) }] },
      { topicId: 'clicks', segment: other, files: [{ hour: hourB, bytes: parquet(other, 2) }] },
    ]);
    await store.writeSegments([
      {
        topicId: 'clicks',
        segment: second,
        files: [
          { hour: hourA, bytes: parquet({ ...second, lastOffset: 12 }, 3) },
          { hour: hourB, bytes: parquet({ ...second, firstOffset: 13 }, 2) },
        ],
      },
    ]);
    expect(store.resumePosition('clicks', 0)).toBe(15);
    expect(store.resumePosition('clicks', 3)).toBe(102);

    const files = (await readdir(join(root, 'topic=clicks'), { recursive: true })).filter((f) =>
      f.endsWith('.parquet'),
    );
    expect(files.sort()).toEqual([
      'date=2025-06-01/hour=10/part-0-0-9.parquet',
      'date=2025-06-01/hour=10/part-0-10-14.parquet',
      'date=2025-06-01/hour=11/part-0-10-14.parquet',
      'date=2025-06-01/hour=11/part-3-100-101.parquet',
    ]);
    const reopened = await OfflineStore.open(root, ['clicks'], logger);
    expect(reopened.resumePosition('clicks', 0)).toBe(15);
    expect(reopened.resumePosition('clicks', 3)).toBe(102);
    const [count] = await duckdb<{ n: bigint }>(
      `SELECT count(DISTINCT kafka_offset) AS n FROM ${storeTable(root, 'clicks')}`,
    );
    expect(Number(count!.n)).toBe(17);
  });

  it('finishes a segment a crash interrupted between its renames, and discards one interrupted before', async () => {
    const renamedHalf = { partition: 0, firstOffset: 20, lastOffset: 29 };
    const neverRenamed = { partition: 1, firstOffset: 5, lastOffset: 9 };
    const dirA = join(root, hourDir('clicks', hourA));
    const dirB = join(root, hourDir('clicks', hourB));
    await mkdir(dirA, { recursive: true });
    await mkdir(dirB, { recursive: true });
    // Segment 0/20-29: its hour-10 file was renamed, its hour-11 file was still temporary.
    await writeFile(join(dirA, segmentFileName(renamedHalf)), parquet({ ...renamedHalf, lastOffset: 24 }, 5));
    await writeFile(join(dirB, tempFileName(renamedHalf)), parquet({ ...renamedHalf, firstOffset: 25 }, 5));
    // Segment 1/5-9: written to a temporary file only.
    await writeFile(join(dirA, tempFileName(neverRenamed)), parquet(neverRenamed, 5));
    // Not ours: left alone.
    await writeFile(join(dirA, 'notes.txt'), 'hello');

    const store = await OfflineStore.open(root, ['clicks', 'impressions'], logger);
    expect(store.resumePosition('clicks', 0)).toBe(30);
    expect(store.resumePosition('clicks', 1)).toBeUndefined();
    expect((await readdir(dirA)).sort()).toEqual(['notes.txt', 'part-0-20-29.parquet']);
    expect(await readdir(dirB)).toEqual(['part-0-20-29.parquet']);
    const [count] = await duckdb<{ n: bigint }>(`SELECT count(*) AS n FROM ${storeTable(root, 'clicks')}`);
    expect(Number(count!.n)).toBe(10);
  });
});
