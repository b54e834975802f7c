import type { ValueProblem } from '@searchop/schemas';
import type { EventStatus } from '../ingest.ts';
import type { UbiKind } from '../ubi/map.ts';

/**
 * JSON schemas of the collector's HTTP contract: request envelopes checked by Fastify, and response
 * bodies serialised by fast-json-stringify (faster than JSON.stringify, and nothing outside the
 * schema can leak into a response).
 */

const problem = {
  type: 'object',
  properties: { path: { type: 'string' }, reason: { type: 'string' } },
  required: ['path', 'reason'],
} as const;

const errorObject = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
  required: ['code', 'message'],
} as const;

const counts = {
  accepted: { type: 'integer' },
  duplicate: { type: 'integer' },
  rejected: { type: 'integer' },
  failed: { type: 'integer' },
} as const;

const status = { type: 'string', enum: ['accepted', 'duplicate', 'rejected', 'failed'] } as const;

/** The per-event (or per-document) results: what identifies the entry, its status, its problems. */
function resultsOf<P extends Record<string, object>>(identity: P) {
  return {
    type: 'array',
    items: {
      type: 'object',
      properties: { ...identity, status, errors: { type: 'array', items: problem } },
      required: [...Object.keys(identity), 'status'],
    },
  } as const;
}

/** POST /v1/events body: `{"events": [...]}`; each event is checked by validation/event.ts, not here. */
export const eventsBody = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1 } },
} as const;

/** One schema for every status of POST /v1/events, so that an error body (`error` only) fits it too. */
export const eventsResponse = {
  type: 'object',
  properties: {
    ...counts,
    results: resultsOf({ index: { type: 'integer' }, event_id: { type: ['string', 'null'] } }),
    error: errorObject,
  },
} as const;

export const ubiQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ordinal_base: { type: 'string', enum: ['0', '1'] } },
} as const;

export const ubiResponse = {
  type: 'object',
  properties: {
    total: { type: 'integer' },
    ...counts,
    results: resultsOf({
      line: { type: 'integer' },
      kind: { type: 'string', enum: ['query', 'event', 'unknown'] },
      action_name: { type: ['string', 'null'] },
      event_type: { type: ['string', 'null'] },
      event_id: { type: ['string', 'null'] },
    }),
    error: errorObject,
  },
} as const;

/** The statuses an ingest route answers with a body of its own shape (errors share it via `error`). */
export function ingestResponses<S>(schema: S): Record<200 | 207 | 400 | 413 | 422 | 500 | 503, S> {
  return { 200: schema, 207: schema, 400: schema, 413: schema, 422: schema, 500: schema, 503: schema };
}

/** The bodies those schemas describe, as TypeScript types for the handlers and for clients. */
export interface ErrorAnswer {
  readonly code: string;
  readonly message: string;
  readonly path?: string;
}

export interface IngestCounts {
  readonly accepted: number;
  readonly duplicate: number;
  readonly rejected: number;
  readonly failed: number;
}

export interface EventsAnswer extends IngestCounts {
  readonly results: readonly {
    readonly index: number;
    readonly event_id: string | null;
    readonly status: EventStatus;
    readonly errors?: readonly ValueProblem[];
  }[];
  /** Why valid events were not written (503, 500). */
  readonly error?: ErrorAnswer;
}

export interface UbiDocumentAnswer {
  readonly line: number;
  readonly kind: UbiKind;
  readonly action_name: string | null;
  readonly status: EventStatus;
  readonly event_type: string | null;
  readonly event_id: string | null;
  readonly errors?: readonly ValueProblem[];
}

export interface UbiAnswer extends IngestCounts {
  readonly total: number;
  readonly results: readonly UbiDocumentAnswer[];
  readonly error?: ErrorAnswer;
}
