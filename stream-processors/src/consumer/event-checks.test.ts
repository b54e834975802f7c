import { describe, expect, it } from 'vitest';
import { StreamProcessorErrorCode } from './errors.ts';
import { checkEvent } from './event-checks.ts';

const kafkaTime = Date.UTC(2025, 5, 1, 12);

describe('checkEvent', () => {
  it('accepts an event that happened before it reached Kafka, however long before', () => {
    expect(checkEvent({ event_id: 'e-1', occurred_at: kafkaTime - 30 * 86_400_000 }, kafkaTime)).toBeUndefined();
  });

  it('accepts client clock skew up to a day ahead of the Kafka timestamp', () => {
    expect(checkEvent({ event_id: 'e-1', occurred_at: kafkaTime + 3_600_000 }, kafkaTime)).toBeUndefined();
  });

  it('refuses an event time far ahead of the Kafka timestamp, saying by how much', () => {
    const failure = checkEvent({ event_id: 'e-1', occurred_at: kafkaTime + 2 * 86_400_000 }, kafkaTime);
    expect(failure?.code).toBe(StreamProcessorErrorCode.INVALID_EVENT);
    expect(failure?.reason).toMatch(/^occurred_at: 2025-06-03T12:00:00.000Z is more than 86400000 ms after/);
  });

  it('refuses event times in seconds rather than milliseconds', () => {
    expect(checkEvent({ event_id: 'e-1', occurred_at: 1_748_779_200 }, kafkaTime)?.reason).toMatch(
      /seconds instead of milliseconds/,
    );
  });

  it('refuses a blank event id', () => {
    expect(checkEvent({ event_id: '  ', occurred_at: kafkaTime }, kafkaTime)?.reason).toBe(
      'event_id: must be a non-empty string',
    );
  });

  it('checks only the fields the schema has (the ranking log has no event_id)', () => {
    expect(checkEvent({ request_id: 'r-1', occurred_at: kafkaTime }, kafkaTime)).toBeUndefined();
    expect(checkEvent({ request_id: 'r-1', occurred_at: 12 }, kafkaTime)?.code).toBe(
      StreamProcessorErrorCode.INVALID_EVENT,
    );
  });

  it('describes event times outside the Date range without throwing', () => {
    expect(checkEvent({ event_id: 'e', occurred_at: Number.MAX_SAFE_INTEGER }, kafkaTime)?.reason).toContain(
      String(Number.MAX_SAFE_INTEGER),
    );
  });
});
