import type { FastifyPluginAsync, FastifyReply, RouteShorthandOptions } from 'fastify';
import { ProducerErrorCode } from '../../errors.ts';
import { httpStatusOf, type EventStatus, type IngestReport, type Ingestor } from '../ingest.ts';
import { RequestError } from '../request-error.ts';
import { validateEvent, type ValidationLimits } from '../validation/event.ts';
import { eventsBody, eventsResponse, ingestResponses, type EventsAnswer } from './schemas.ts';

export interface IngestRouteDeps {
  readonly ingestor: Ingestor;
  readonly clock: () => number;
  readonly limits: ValidationLimits;
  /** Route options every ingest route shares: authentication and rate-limit hooks. */
  readonly guard: Pick<RouteShorthandOptions, 'onRequest' | 'config'>;
}

export interface EventsRouteOptions extends IngestRouteDeps {
  readonly maxEvents: number;
  readonly maxBodyBytes: number;
}

/**
 * POST /v1/events: a JSON batch `{"events": [...]}`, each event answered on its own (see
 * ingest.ts for the statuses). Its own plugin context, so that it reads application/json only.
 */
export const eventsRoute: FastifyPluginAsync<EventsRouteOptions> = async (app, options) => {
  const { ingestor, clock, limits, maxEvents, maxBodyBytes, guard } = options;

  // JSON.parse directly: its message says where the JSON breaks, and no field is ever merged into
  // an existing object (the validator copies known fields), so "__proto__" keys are harmless.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(
        new RequestError(400, ProducerErrorCode.MALFORMED_BODY, `malformed JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });

  app.post(
    '/v1/events',
    {
      ...guard,
      config: { ...guard.config, mediaTypes: 'application/json' },
      bodyLimit: maxBodyBytes,
      schema: { body: eventsBody, response: ingestResponses(eventsResponse) },
    },
    async (request, reply): Promise<EventsAnswer> => {
      const { events } = request.body as { events: unknown[] };
      if (events.length > maxEvents) {
        throw new RequestError(
          413,
          ProducerErrorCode.TOO_MANY_EVENTS,
          `at most ${maxEvents} events per request, got ${events.length}`,
          { path: 'events' },
        );
      }
      const now = clock();
      const report = await ingestor.ingest(events.map((raw) => validateEvent(raw, now, limits)));
      if (report.failure && !report.failure.retriable) {
        request.log.error({ err: report.failure.cause }, 'events not written');
      }
      const statuses = report.results.map((r) => r.status);
      setStatus(reply, httpStatusOf(statuses, report.failure), ingestor);
      return {
        ...countStatuses(statuses),
        results: report.results.map((r, index) => ({
          index,
          event_id: r.eventId,
          status: r.status,
          ...(r.errors ? { errors: r.errors } : {}),
        })),
        ...failureBody(report),
      };
    },
  );
};

export function setStatus(reply: FastifyReply, status: number, ingestor: Ingestor): void {
  reply.code(status);
  if (status === 503) reply.header('retry-after', String(ingestor.retryAfterSeconds));
}

export function countStatuses(statuses: readonly EventStatus[]): Record<EventStatus, number> {
  const counts = { accepted: 0, duplicate: 0, rejected: 0, failed: 0 };
  for (const s of statuses) counts[s]++;
  return counts;
}

export function failureBody(report: IngestReport): { error?: { code: string; message: string } } {
  return report.failure ? { error: { code: report.failure.code, message: report.failure.message } } : {};
}
