import { SearchOpError } from '@searchop/runtime';

/**
 * The closed list of error codes of the stream processors (STP_*). Poison records are not errors
 * here: they are values routed to the dead-letter topic, and these codes name why in its headers.
 */
export const StreamProcessorErrorCode = {
  /** A record has no value (a tombstone) where every record must carry an event. */
  EMPTY_VALUE: 'STP_EMPTY_VALUE',
  /** A decoded event fails a plausibility check (event time, ids); the reason names the field. */
  INVALID_EVENT: 'STP_INVALID_EVENT',
  /** The dead-letter topic did not acknowledge a poison record; nothing past it may be committed. */
  DEAD_LETTER_UNAVAILABLE: 'STP_DEAD_LETTER_UNAVAILABLE',
  /** The handler of a batch failed; the batch is neither durable nor committed. */
  HANDLER_FAILED: 'STP_HANDLER_FAILED',
  /** An entity state kept changing under the feature writer's compare-and-set, round after round. */
  STATE_CONTENDED: 'STP_STATE_CONTENDED',
  /** A Redis key of the counter layout does not hold a decodable entity state. */
  STATE_UNREADABLE: 'STP_STATE_UNREADABLE',
  /** The consumer stopped on an error it cannot recover from; the process should exit and restart. */
  CONSUMER_CRASHED: 'STP_CONSUMER_CRASHED',
  /** A topic to consume is not in the topic registry. */
  UNKNOWN_TOPIC: 'STP_UNKNOWN_TOPIC',
  /** An Avro schema uses a shape the Parquet mapping does not support (a union of two non-null types). */
  UNSUPPORTED_SCHEMA: 'STP_UNSUPPORTED_SCHEMA',
  /** The offline store holds offsets beyond the topic's end: the topic was recreated or the root is another deployment's. */
  STORE_AHEAD_OF_TOPIC: 'STP_STORE_AHEAD_OF_TOPIC',
  /** A file of the offline store cannot be written or read. */
  STORE_IO: 'STP_STORE_IO',
} as const;
export type StreamProcessorErrorCode = (typeof StreamProcessorErrorCode)[keyof typeof StreamProcessorErrorCode];

export class StreamProcessorError extends SearchOpError<StreamProcessorErrorCode> {}
