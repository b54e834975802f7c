import { isSearchOpError } from '@searchop/runtime';
import type { ValueProblem } from '@searchop/schemas';
import { ProducerErrorCode } from '../errors.ts';
import type { EmitOutcome, EmitRequest } from '../sdk/storefront-client.ts';
import { countBy, type CollectorMetrics, type EventOutcome } from './metrics.ts';
import { isEventType, type ValidatedEvent } from './validation/event.ts';

/** The one thing the collector needs of Kafka: StorefrontClient's emitMany (resolves once Kafka acknowledged). */
export interface EventSink {
  emitMany(events: readonly EmitRequest[]): Promise<EmitOutcome[]>;
}

/**
 * accepted: Kafka acknowledged it now; duplicate: its event_id was already accepted (earlier in
 * the batch or within the dedupe window), nothing new written; rejected: invalid, never produced;
 * failed: valid but not acknowledged (Kafka unavailable) — send it again, with the same event_id.
 * When Kafka acknowledged only part of a request, all its valid events are answered failed; the
 * ones that were written are answered duplicate when sent again, so none is written twice.
 */
export type EventStatus = EventOutcome;

export interface EventResult {
  readonly status: EventStatus;
  readonly eventId: string | null;
  readonly errors?: readonly ValueProblem[];
}

export interface IngestReport {
  readonly results: readonly EventResult[];
  /** Set when a valid event was not written; `retriable` false only for an unexpected fault. */
  readonly failure?: {
    readonly retriable: boolean;
    readonly code: string;
    readonly message: string;
    readonly cause: unknown;
  };
}

/**
 * Hands the valid events to the sink in one emitMany call (the SDK batches them with other
 * requests' events) and waits for every acknowledgement, so that "accepted" means written. Duplicates of an event_id earlier in the same
 * batch share the first one's fate. After a Kafka failure, events are failed at once for
 * `retryAfterMs` instead of queueing behind a broker that is down (a short circuit breaker); the
 * first request after that window probes Kafka again.
 */
export class Ingestor {
  readonly #sink: EventSink;
  readonly #clock: () => number;
  readonly #retryAfterMs: number;
  readonly #metrics: CollectorMetrics;
  #kafkaDownUntil = 0;

  constructor(sink: EventSink, clock: () => number, retryAfterMs: number, metrics: CollectorMetrics) {
    this.#sink = sink;
    this.#clock = clock;
    this.#retryAfterMs = retryAfterMs;
    this.#metrics = metrics;
  }

  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#retryAfterMs / 1000));
  }

  async ingest(events: readonly ValidatedEvent[]): Promise<IngestReport> {
    const results = new Array<EventResult>(events.length);
    const firstById = new Map<string, number>();
    const repeats: [index: number, first: number][] = [];
    let failure: IngestReport['failure'];
    const shortCircuit = this.#clock() < this.#kafkaDownUntil;

    // Valid events, each event id once, go to the sink in one call: one promise for the request.
    const toSend: EmitRequest[] = [];
    const sentIndex: number[] = [];
    events.forEach((v, i) => {
      if (!v.ok) {
        results[i] = { status: 'rejected', eventId: v.eventId, errors: v.errors };
        return;
      }
      const first = firstById.get(v.eventId);
      if (first !== undefined) {
        repeats.push([i, first]);
        return;
      }
      firstById.set(v.eventId, i);
      if (shortCircuit) {
        results[i] = { status: 'failed', eventId: v.eventId };
        failure = {
          retriable: true,
          code: ProducerErrorCode.KAFKA_UNAVAILABLE,
          message: 'Kafka is unavailable (it failed moments ago); these events were not written',
          cause: undefined,
        };
        return;
      }
      toSend.push({ type: v.type, event: v.event } as EmitRequest);
      sentIndex.push(i);
    });
    if (toSend.length > 0) {
      try {
        const outcomes = await this.#sink.emitMany(toSend);
        outcomes.forEach((outcome, k) => {
          const i = sentIndex[k]!;
          results[i] = { status: outcome === 'sent' ? 'accepted' : 'duplicate', eventId: toSend[k]!.event.event_id };
        });
      } catch (error) {
        for (const [k, i] of sentIndex.entries()) results[i] = { status: 'failed', eventId: toSend[k]!.event.event_id };
        const retriable = isSearchOpError(error) && (error.retriable || error.code === ProducerErrorCode.CLOSED);
        if (isSearchOpError(error, ProducerErrorCode.KAFKA_UNAVAILABLE)) {
          this.#kafkaDownUntil = this.#clock() + this.#retryAfterMs;
        }
        failure = {
          retriable,
          code: retriable && isSearchOpError(error) ? error.code : ProducerErrorCode.INTERNAL,
          message: retriable ? (error as Error).message : 'an unexpected error; see the collector log',
          cause: error,
        };
      }
    }
    for (const [i, first] of repeats) {
      const original = results[first]!;
      results[i] = { status: original.status === 'failed' ? 'failed' : 'duplicate', eventId: original.eventId };
    }
    countBy(
      this.#metrics.events,
      events.map((v, i) => ({ type: isEventType(v.type) ? v.type : 'unknown', outcome: results[i]!.status })),
    );
    return failure ? { results, failure } : { results };
  }
}

/**
 * 200 all written (or duplicates), 207 some rejected, 422 none valid, 503 some not written because
 * Kafka is unavailable (retry those), 500 an unexpected fault.
 */
export function httpStatusOf(
  statuses: readonly EventStatus[],
  failure: IngestReport['failure'],
): 200 | 207 | 422 | 500 | 503 {
  if (failure) return failure.retriable ? 503 : 500;
  const rejected = statuses.filter((s) => s === 'rejected').length;
  if (rejected === 0) return 200;
  return rejected === statuses.length ? 422 : 207;
}
