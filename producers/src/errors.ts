import { SearchOpError } from '@searchop/runtime';

export const ProducerErrorCode = {
  /** Kafka did not acknowledge the events (broker down, timeout); nothing may be assumed written. */
  KAFKA_UNAVAILABLE: 'PRD_KAFKA_UNAVAILABLE',
  /** The client is closing or closed and takes no more events. */
  CLOSED: 'PRD_CLOSED',
  /** An input file or row cannot be read (catalogue loader, simulator world). */
  INPUT_INVALID: 'PRD_INPUT_INVALID',
} as const;
export type ProducerErrorCode = (typeof ProducerErrorCode)[keyof typeof ProducerErrorCode];

export class ProducerError extends SearchOpError<ProducerErrorCode> {}
