import { describe, expect, it } from 'vitest';
import {
  groupByHour,
  hourDir,
  hourPartitionOf,
  parseSegmentFileName,
  parseTempFileName,
  resumePositions,
  segmentFileName,
  tempFileName,
} from './layout.ts';

describe('hourPartitionOf', () => {
  it('is the UTC date and hour of the event time, zero-padded', () => {
    expect(hourPartitionOf(Date.UTC(2025, 0, 5, 7, 59, 59, 999))).toEqual({ date: '2025-01-05', hour: '07' });
    expect(hourPartitionOf(Date.UTC(2025, 0, 5, 8, 0, 0, 0))).toEqual({ date: '2025-01-05', hour: '08' });
    expect(hourPartitionOf(Date.UTC(2024, 11, 31, 23, 30))).toEqual({ date: '2024-12-31', hour: '23' });
  });

  it('places a directory per topic, date and hour, Hive-style', () => {
    expect(hourDir('clicks', { date: '2025-01-05', hour: '07' })).toBe('topic=clicks/date=2025-01-05/hour=07');
  });
});

describe('segment file names', () => {
  const segment = { partition: 3, firstOffset: 1200, lastOffset: 4711 };

  it('name the Kafka partition and the offset range, and parse back', () => {
    expect(segmentFileName(segment)).toBe('part-3-1200-4711.parquet');
    expect(parseSegmentFileName('part-3-1200-4711.parquet')).toEqual(segment);
  });

  it('hide temporary files from readers and map them to their final name', () => {
    expect(tempFileName(segment)).toBe('.part-3-1200-4711.parquet.tmp');
    expect(parseTempFileName('.part-3-1200-4711.parquet.tmp')).toBe('part-3-1200-4711.parquet');
  });

  it('ignore files that are not segments', () => {
    for (const name of ['part-3-1200.parquet', 'part-3-9-1.parquet', 'x.parquet', '_SUCCESS', 'part-a-1-2.parquet']) {
      expect(parseSegmentFileName(name)).toBeUndefined();
    }
    expect(parseTempFileName('.other.tmp')).toBeUndefined();
    expect(parseTempFileName('part-3-1-2.parquet')).toBeUndefined();
  });
});

describe('resumePositions', () => {
  it('is, per Kafka partition, one past the largest last offset on disk', () => {
    const positions = resumePositions([
      { partition: 0, firstOffset: 0, lastOffset: 99 },
      { partition: 0, firstOffset: 100, lastOffset: 250 },
      // The same segment seen in two hour directories counts once.
      { partition: 0, firstOffset: 100, lastOffset: 250 },
      { partition: 2, firstOffset: 7, lastOffset: 7 },
    ]);
    expect(positions).toEqual(
      new Map([
        [0, 251],
        [2, 8],
      ]),
    );
    expect(positions.get(1)).toBeUndefined();
  });
});

describe('groupByHour', () => {
  it('sends a late event to its own hour and keeps offset order within each hour', () => {
    const at = (h: number, m: number) => Date.UTC(2025, 5, 1, h, m);
    const rows = [
      { offset: 10, occurredAt: at(10, 59) },
      { offset: 11, occurredAt: at(11, 0) },
      { offset: 12, occurredAt: at(9, 15) }, // late
      { offset: 13, occurredAt: at(10, 59) },
    ];
    const groups = groupByHour(rows, (r) => r.occurredAt);
    expect(groups.map((g) => [`${g.hour.date}T${g.hour.hour}`, g.rows.map((r) => r.offset)])).toEqual([
      ['2025-06-01T10', [10, 13]],
      ['2025-06-01T11', [11]],
      ['2025-06-01T09', [12]],
    ]);
  });
});
