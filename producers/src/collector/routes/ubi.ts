import type { FastifyPluginAsync } from 'fastify';
import { ProducerErrorCode } from '../../errors.ts';
import { httpStatusOf } from '../ingest.ts';
import { countBy, type CollectorMetrics } from '../metrics.ts';
import { RequestError } from '../request-error.ts';
import { mapUbi, ubiPathOf } from '../ubi/map.ts';
import { parseBulkNdjson } from '../ubi/ndjson.ts';
import { validateEvent } from '../validation/event.ts';
import { countStatuses, failureBody, setStatus, type IngestRouteDeps } from './events.ts';
import { ingestResponses, ubiQuery, ubiResponse, type UbiAnswer, type UbiDocumentAnswer } from './schemas.ts';

export interface UbiRouteOptions extends IngestRouteDeps {
  readonly maxDocuments: number;
  readonly maxBodyBytes: number;
  readonly ordinalBase: 0 | 1;
  readonly metrics: CollectorMetrics;
}

const MEDIA_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/json'];

/**
 * POST /v1/ubi: User Behavior Insights documents as NDJSON (the OpenSearch bulk shape or bare
 * documents), mapped by ubi/map.ts, validated and produced like POST /v1/events. Every document
 * gets a result: accepted + duplicate + rejected + failed = total.
 */
export const ubiRoute: FastifyPluginAsync<UbiRouteOptions> = async (app, options) => {
  const { ingestor, clock, limits, maxDocuments, maxBodyBytes, ordinalBase, metrics, guard } = options;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(MEDIA_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/ubi',
    {
      ...guard,
      config: { ...guard.config, mediaTypes: MEDIA_TYPES[0]! },
      bodyLimit: maxBodyBytes,
      schema: { querystring: ubiQuery, response: ingestResponses(ubiResponse) },
    },
    async (request, reply): Promise<UbiAnswer> => {
      const base = (request.query as { ordinal_base?: '0' | '1' }).ordinal_base;
      const docs = parseBulkNdjson(typeof request.body === 'string' ? request.body : '');
      if (docs.length === 0)
        throw new RequestError(400, ProducerErrorCode.MALFORMED_BODY, 'no UBI documents in the body');
      if (docs.length > maxDocuments) {
        throw new RequestError(
          413,
          ProducerErrorCode.TOO_MANY_EVENTS,
          `at most ${maxDocuments} UBI documents per request, got ${docs.length}`,
        );
      }
      const mapping = mapUbi(docs, { ordinalBase: base === undefined ? ordinalBase : base === '1' ? 1 : 0 });
      const now = clock();
      const validated = mapping.events.map((m) => validateEvent(m.event, now, limits));
      const report = await ingestor.ingest(validated);
      if (report.failure && !report.failure.retriable) {
        request.log.error({ err: report.failure.cause }, 'UBI events not written');
      }

      const eventOfLine = new Map<number, number>();
      mapping.events.forEach((m, i) => m.lines.forEach((line) => eventOfLine.set(line, i)));
      const results = mapping.documents.map((doc): UbiDocumentAnswer => {
        const common = { line: doc.line, kind: doc.kind, action_name: doc.actionName };
        const errors = mapping.rejected.get(doc.line);
        const index = eventOfLine.get(doc.line);
        if (errors || index === undefined) {
          return { ...common, status: 'rejected', event_type: null, event_id: null, errors: errors ?? [] };
        }
        const event = mapping.events[index]!.event;
        const result = report.results[index]!;
        const type = event['type'] as string;
        return {
          ...common,
          status: result.status,
          event_type: type,
          event_id: event['event_id'] as string,
          ...(result.errors
            ? { errors: result.errors.map((p) => ({ path: ubiPathOf(p.path, type), reason: p.reason })) }
            : {}),
        };
      });
      countBy(
        metrics.ubiDocuments,
        results.map((r) => ({ kind: r.kind, outcome: r.status })),
      );
      const statuses = results.map((r) => r.status);
      setStatus(reply, httpStatusOf(statuses, report.failure), ingestor);
      return { total: results.length, ...countStatuses(statuses), results, ...failureBody(report) };
    },
  );
};
