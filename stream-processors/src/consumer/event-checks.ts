import { StreamProcessorErrorCode } from './errors.ts';
import type { Failure } from './dead-letter.ts';

/**
 * Plausibility checks every processor applies after decoding, beyond what the Avro schema can say.
 * A record that fails them is a dead letter, not an error. Every processor buckets events by event
 * time (offline-store partitions, feature tiles), so a wild `occurred_at` would create year-0 or
 * year-275760 buckets.
 *
 * The upper bound is relative to the record's Kafka timestamp, not to the wall clock, so that the
 * verdict on a record never changes when it is replayed after a crash: a record is dead-lettered
 * either every time or never.
 */
export interface EventCheckOptions {
  /** How far `occurred_at` may run ahead of the Kafka timestamp (client clocks are skewed). */
  readonly maxFutureSkewMs: number;
  /** Events older than this are taken for a unit error (seconds for milliseconds) or an unset clock. */
  readonly minOccurredAt: number;
}

export const defaultEventChecks: EventCheckOptions = {
  maxFutureSkewMs: 24 * 3_600_000,
  minOccurredAt: Date.UTC(2000, 0, 1),
};

export function checkEvent(
  value: unknown,
  kafkaTimestampMs: number,
  options: EventCheckOptions = defaultEventChecks,
): Failure | undefined {
  const event = value as { event_id?: unknown; occurred_at?: unknown };
  // Decoded records carry every field of their schema: a field that is absent is not in the schema (the ranking log has no event_id).
  if ('event_id' in event && (typeof event.event_id !== 'string' || event.event_id.trim() === '')) {
    return invalid('event_id: must be a non-empty string');
  }
  if (!('occurred_at' in event)) return undefined;
  const occurredAt = event.occurred_at;
  if (typeof occurredAt !== 'number' || !Number.isSafeInteger(occurredAt)) {
    return invalid(`occurred_at: expected epoch milliseconds, got ${String(occurredAt)}`);
  }
  if (occurredAt < options.minOccurredAt) {
    return invalid(
      `occurred_at: ${occurredAt} is before ${iso(options.minOccurredAt)} (seconds instead of milliseconds?)`,
    );
  }
  if (occurredAt > kafkaTimestampMs + options.maxFutureSkewMs) {
    return invalid(
      `occurred_at: ${iso(occurredAt)} is more than ${options.maxFutureSkewMs} ms after the record's Kafka timestamp ${iso(kafkaTimestampMs)}`,
    );
  }
  return undefined;
}

/** ISO time where the Date range allows it (±8.64e15 ms), the number otherwise. */
function iso(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function invalid(reason: string): Failure {
  return { code: StreamProcessorErrorCode.INVALID_EVENT, reason };
}
