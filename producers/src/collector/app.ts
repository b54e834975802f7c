import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type RouteShorthandOptions } from 'fastify';
import { httpServerOptions, type HttpServerOptions } from '@searchop/runtime';
import type { Registry } from 'prom-client';
import { ProducerErrorCode } from '../errors.ts';
import type { CollectorSettings } from './config.ts';
import { Ingestor, type EventSink } from './ingest.ts';
import { createCollectorMetrics } from './metrics.ts';
import { apiKeys } from './plugins/api-keys.ts';
import { describeError, RequestError } from './request-error.ts';
import { eventsRoute } from './routes/events.ts';
import { probeRoutes } from './routes/probes.ts';
import { ubiRoute } from './routes/ubi.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a route reads, named in its 415 answer. */
    mediaTypes?: string;
  }
}

export interface CollectorDeps {
  /** Where valid events go; StorefrontClient in production. */
  readonly sink: EventSink;
  /** The process registry: /metrics serves it, the collector's own metrics are added to it. */
  readonly metrics: Registry;
  /** Epoch milliseconds now: the event-time window is checked against it. */
  readonly clock: () => number;
  /** Resolves when Kafka can take events; rejects with a message fit for the /ready answer. */
  readonly checkReady: () => Promise<void>;
  readonly settings: CollectorSettings;
}

/** The collector as a Fastify plugin: routes, auth, rate limit, one error handler. */
export const collectorApp: FastifyPluginAsync<CollectorDeps> = async (app, deps) => {
  const { sink, metrics: registry, clock, checkReady, settings } = deps;
  const metrics = createCollectorMetrics(registry);
  const ingestor = new Ingestor(sink, clock, settings.kafkaRetryAfterMs, metrics);
  const keys = apiKeys(settings.apiKeys);
  const limits = { maxPastMs: settings.maxEventAgeMs, maxFutureMs: settings.maxClockSkewMs };

  app.setErrorHandler(async (error, request, reply) => {
    const described = describeError(error, request.routeOptions.config.mediaTypes ?? 'application/json');
    if (described.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: described.body.error.code, status: described.status }, 'request refused');
    return reply.code(described.status).headers(described.headers).send(described.body);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: { code: ProducerErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });

  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new RequestError(
        429,
        ProducerErrorCode.RATE_LIMITED,
        `more than ${context.max} requests per minute for this API key; retry in ${context.after}`,
      ),
  });
  const guard: Pick<RouteShorthandOptions, 'onRequest' | 'config'> = {
    onRequest: [keys.authenticate],
    config:
      settings.rateLimitPerMinute > 0
        ? { rateLimit: { max: settings.rateLimitPerMinute, timeWindow: 60_000, keyGenerator: keys.callerOf } }
        : {},
  };

  await app.register(probeRoutes, { metrics: registry, checkReady });
  await app.register(eventsRoute, {
    ingestor,
    clock,
    limits,
    guard,
    maxEvents: settings.maxEvents,
    maxBodyBytes: settings.maxBodyBytes,
  });
  await app.register(ubiRoute, {
    ingestor,
    clock,
    limits,
    guard,
    metrics,
    maxDocuments: settings.ubiMaxDocuments,
    maxBodyBytes: settings.ubiMaxBodyBytes,
    ordinalBase: settings.ubiOrdinalBase,
  });
};

/** The HTTP server around the plugin, with explicit timeouts and limits. */
export async function buildCollectorServer(deps: CollectorDeps, server: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...httpServerOptions(server),
    // Larger bodies are refused per route (bodyLimit); this is the ceiling for anything else.
    bodyLimit: Math.max(deps.settings.maxBodyBytes, deps.settings.ubiMaxBodyBytes),
    // Request envelopes are checked as sent: no coercion (a string is not a one-element array) and
    // no silent removal of unknown properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  await app.register(collectorApp, deps);
  return app as unknown as FastifyInstance;
}
