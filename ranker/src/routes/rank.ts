import type { FastifyPluginAsync, RouteShorthandOptions } from 'fastify';
import { RankerErrorCode, RequestRefused } from '../errors.ts';
import type { RankerSettings } from '../config.ts';
import type { Ranker, RankRequest } from '../ranker.ts';
import { isCandidateProblem, readCandidates } from '../scoring/candidates.ts';
import { rankSchemas } from './rank-schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by POST /rank once answered, for the request metrics. */
    rankDegraded?: boolean;
  }
}

export interface RankRouteOptions {
  readonly ranker: Ranker;
  readonly settings: RankerSettings;
  /** Authentication and rate limit of the route. */
  readonly guard: Pick<RouteShorthandOptions, 'onRequest' | 'config'>;
}

export const rankRoute: FastifyPluginAsync<RankRouteOptions> = async (app, { ranker, settings, guard }) => {
  app.post<{ Body: RankRequest; Querystring: { explain?: string } }>(
    '/rank',
    {
      ...guard,
      schema: {
        summary: 'Rank candidate products for a query',
        description:
          'Scores the candidates with the current model on features from the feature store and returns them best first. ' +
          'Never fails for the feature store or the model: without them the answer is degraded (default features, or the input order).',
        ...rankSchemas(settings),
      },
    },
    async (request) => {
      const candidates = readCandidates(request.body.candidates);
      if (isCandidateProblem(candidates)) {
        const code =
          candidates.kind === 'duplicate' ? RankerErrorCode.DUPLICATE_CANDIDATE : RankerErrorCode.INVALID_REQUEST;
        throw new RequestRefused(400, code, `${candidates.field}: ${candidates.message}`, { field: candidates.field });
      }
      const explain = request.query.explain === 'true' || request.query.explain === '1';
      const response = await ranker.rank(request.id, request.body, candidates, explain);
      request.rankDegraded = response.degraded;
      return response;
    },
  );
};
