import { SearchOpError } from '@searchop/runtime';

export const ProducerErrorCode = {
  /** Kafka did not acknowledge the events (broker down, timeout); nothing may be assumed written. */
  KAFKA_UNAVAILABLE: 'PRD_KAFKA_UNAVAILABLE',
  /** The client is closing or closed and takes no more events. */
  CLOSED: 'PRD_CLOSED',
  /** An input file or row cannot be read (catalogue loader, simulator world). */
  INPUT_INVALID: 'PRD_INPUT_INVALID',
  /** Simulator: the /rank service did not answer in time or answered with an error or an unreadable body. */
  RANK_UNAVAILABLE: 'PRD_RANK_UNAVAILABLE',
  /** Collector: the request body is not well-formed (JSON or NDJSON) or not the expected envelope. */
  MALFORMED_BODY: 'PRD_MALFORMED_BODY',
  /** Collector: more events (or UBI documents) in one request than the configured limit. */
  TOO_MANY_EVENTS: 'PRD_TOO_MANY_EVENTS',
  /** Collector: the request body is larger than the configured limit. */
  BODY_TOO_LARGE: 'PRD_BODY_TOO_LARGE',
  /** Collector: the Content-Type is not one the route reads. */
  UNSUPPORTED_MEDIA_TYPE: 'PRD_UNSUPPORTED_MEDIA_TYPE',
  /** Collector: no API key was presented while keys are required. */
  UNAUTHENTICATED: 'PRD_UNAUTHENTICATED',
  /** Collector: the presented API key is not one of the configured keys. */
  FORBIDDEN: 'PRD_FORBIDDEN',
  /** Collector: the caller's key (or address) sent more requests than its per-minute limit. */
  RATE_LIMITED: 'PRD_RATE_LIMITED',
  /** Collector: no route for this method and path. */
  NOT_FOUND: 'PRD_NOT_FOUND',
  /** Collector: an unexpected failure; details are logged, never returned. */
  INTERNAL: 'PRD_INTERNAL',
} as const;
export type ProducerErrorCode = (typeof ProducerErrorCode)[keyof typeof ProducerErrorCode];

export class ProducerError extends SearchOpError<ProducerErrorCode> {}
