import { topics } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { PendingBatch } from './pending-batch.ts';
import type { ConsumedEvent } from './records.ts';

function event(topic: string, partition: number, offset: number): ConsumedEvent {
  return { topic, partition, offset, timestamp: 0, topicId: 'clicks', spec: topics.clicks, value: {} } as ConsumedEvent;
}

const limits = { maxRecords: 3, maxBytes: 100, maxWaitMs: 1_000 };

describe('PendingBatch', () => {
  it('is full at the record or the byte limit', () => {
    const batch = new PendingBatch();
    expect(batch.hasWork).toBe(false);
    batch.add([event('a', 0, 0), event('a', 0, 1)], 40, { topic: 'a', partition: 0, offset: 2 });
    expect(batch.isFull(limits)).toBe(false);
    batch.add([event('a', 1, 7)], 10, { topic: 'a', partition: 1, offset: 8 });
    expect(batch.isFull(limits)).toBe(true);

    const bytes = new PendingBatch();
    bytes.add([event('a', 0, 0)], 100, { topic: 'a', partition: 0, offset: 1 });
    expect(bytes.isFull(limits)).toBe(true);
  });

  it('commits, per partition, past records that produced no event (dead letters, skips)', () => {
    const batch = new PendingBatch();
    batch.add([event('a', 0, 0)], 1, { topic: 'a', partition: 0, offset: 1 });
    batch.add([], 0, { topic: 'a', partition: 0, offset: 5 });
    batch.add([], 0, { topic: 'b', partition: 2, offset: 9 });
    expect(batch.hasWork).toBe(true);
    expect(batch.commitPositions()).toEqual([
      { topic: 'a', partition: 0, offset: 5 },
      { topic: 'b', partition: 2, offset: 9 },
    ]);
  });

  it('forgets the events, bytes and positions of partitions no longer owned', () => {
    const batch = new PendingBatch();
    batch.add([event('a', 0, 0), event('a', 0, 1)], 60, { topic: 'a', partition: 0, offset: 2 });
    batch.add([event('a', 1, 5)], 30, { topic: 'a', partition: 1, offset: 6 });
    batch.retain((topic, partition) => topic === 'a' && partition === 1);
    expect(batch.events.map((e) => [e.partition, e.offset])).toEqual([[1, 5]]);
    expect(batch.bytes).toBe(30);
    expect(batch.commitPositions()).toEqual([{ topic: 'a', partition: 1, offset: 6 }]);
  });
});
