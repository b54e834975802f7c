import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { httpServerOptions, type HttpServerOptions } from '@searchop/runtime';
import type { RankerSettings } from './config.ts';
import { RankerErrorCode, RequestRefused } from './errors.ts';
import type { RankerMetrics } from './metrics.ts';
import type { Ranker } from './ranker.ts';
import { callerIdentity } from './plugins/api-keys.ts';
import { errorReply } from './plugins/error-replies.ts';
import { installJsonBody } from './plugins/json-body.ts';
import { probeRoutes, type Readiness } from './routes/probes.ts';
import { rankRoute } from './routes/rank.ts';

export interface RankerAppDeps {
  readonly ranker: Ranker;
  /** The process registry: /metrics serves it. */
  readonly registry: Registry;
  readonly metrics: RankerMetrics;
  readonly readiness: () => Promise<Readiness>;
  readonly settings: RankerSettings;
  /** Adds `Server-Timing: app;dur=<ms>` to answers (benchmarks read server-side latency from it). */
  readonly serverTiming?: boolean;
}

/** The ranker as a Fastify plugin: strict JSON body, keys, rate limit, routes, one error handler, OpenAPI. */
export const rankerApp: FastifyPluginAsync<RankerAppDeps> = async (app, deps) => {
  const { metrics, settings } = deps;
  const identity = callerIdentity(settings.apiKeys);

  installJsonBody(app, { bodyLimitBytes: settings.bodyLimitBytes, maxDepth: settings.maxJsonDepth });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = errorReply(error, request.id);
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.endpointErrors.inc({ route, status: String(answer.status), code: answer.body.error.code });
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: answer.body.error.code, field: answer.body.error.field }, 'request refused');
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    metrics.endpointErrors.inc({ route: 'unmatched', status: '404', code: RankerErrorCode.NOT_FOUND });
    return reply.code(404).send({
      error: { code: RankerErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}` },
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== '/rank') return;
    const degraded = String(request.rankDegraded ?? false);
    metrics.requests.inc({ status: String(reply.statusCode), degraded });
    metrics.requestSeconds.observe({ degraded }, reply.elapsedTime / 1000);
  });
  if (deps.serverTiming) {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(3)}`);
      return payload;
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SearchOp ranker',
        version: '1',
        description: 'Learning-to-rank for e-commerce search: POST /rank scores candidates with the current model.',
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
      ...(settings.apiKeys.length > 0 ? { security: [{ apiKey: [] }] } : {}),
    },
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new RequestRefused(
        429,
        RankerErrorCode.RATE_LIMITED,
        `x-api-key: more than ${context.max} requests in ${settings.rateLimitWindowMs / 1000} s for this caller; retry in ${context.after}`,
        { field: 'x-api-key' },
      ),
  });

  await app.register(rankRoute, {
    ranker: deps.ranker,
    settings,
    guard: {
      onRequest: [identity.check],
      config:
        settings.rateLimitMax > 0
          ? {
              rateLimit: {
                max: settings.rateLimitMax,
                timeWindow: settings.rateLimitWindowMs,
                keyGenerator: identity.bucketOf,
              },
            }
          : {},
    },
  });
  await app.register(probeRoutes, { metrics: deps.registry, readiness: deps.readiness });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
};

/** The HTTP server around the plugin, with explicit timeouts, limits and validation options. */
export async function buildRankerServer(deps: RankerAppDeps, server: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...httpServerOptions(server),
    bodyLimit: deps.settings.bodyLimitBytes,
    // Successful requests are measured by metrics, not logged one by one (a log line per ranking
    // would cost more than the ranking); refusals and failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Requests are checked as sent: no coercion (a number is not a product id), no silent removal of
    // unknown properties, and NaN/Infinity are not numbers.
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        strictNumbers: true,
        allowUnionTypes: true,
      },
    },
  });
  await app.register(rankerApp, deps);
  return app as unknown as FastifyInstance;
}
