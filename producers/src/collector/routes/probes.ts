import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface ProbeRouteOptions {
  readonly metrics: Registry;
  /** Resolves when events can be taken (Kafka reachable); rejects saying why not. */
  readonly checkReady: () => Promise<void>;
}

/**
 * /health: the process is alive (liveness; never depends on Kafka, so a broker outage does not get
 * the pod restarted). /ready: Kafka answers, so events sent here can be acknowledged (readiness).
 * /metrics: Prometheus text. No authentication or rate limit: these are for the platform.
 */
export const probeRoutes: FastifyPluginAsync<ProbeRouteOptions> = async (app, { metrics, checkReady }) => {
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (request, reply) => {
    try {
      await checkReady();
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'not ready');
      return reply.code(503).send({ status: 'not_ready', reason: (error as Error).message });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
};
