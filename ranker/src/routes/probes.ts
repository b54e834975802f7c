import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface Readiness {
  /** A model is loaded. */
  readonly model: boolean;
  /** The feature store answers. */
  readonly redis: boolean;
}

export interface ProbeRouteOptions {
  readonly metrics: Registry;
  readonly readiness: () => Promise<Readiness>;
}

/**
 * /health: the process serves (liveness: never depends on Redis or the model, so an outage of either
 * does not get pods restarted — POST /rank keeps answering, degraded). /ready: a model is loaded and
 * Redis answers, so answers are full rankings. /metrics: Prometheus text. No key or rate limit: these
 * are for the platform.
 */
export const probeRoutes: FastifyPluginAsync<ProbeRouteOptions> = async (app, { metrics, readiness }) => {
  const hidden = { schema: { hide: true } };
  app.get('/health', hidden, async () => ({ status: 'ok' }));

  app.get('/ready', hidden, async (_request, reply) => {
    const state = await readiness();
    const ready = state.model && state.redis;
    return reply.code(ready ? 200 : 503).send({ ready, ...state });
  });

  app.get('/metrics', hidden, async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
};
