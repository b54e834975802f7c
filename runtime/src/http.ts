import type { Logger } from 'pino';
import { requestIdFrom } from './logger.ts';

/** How an HTTP service's server runs: from its config in main.ts, from the harness in tests. */
export interface HttpServerOptions {
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly trustProxy: boolean;
}

/**
 * The Fastify options every SearchOp HTTP service shares: its logger, the caller's X-Request-Id as
 * request id, explicit request/connection/keep-alive timeouts, and 503 for requests while closing.
 * (Runtime does not depend on Fastify: services spread this into their Fastify({...}) call.)
 */
export function httpServerOptions(server: HttpServerOptions) {
  return {
    loggerInstance: server.logger,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) =>
      requestIdFrom(request.headers['x-request-id']),
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.requestTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    trustProxy: server.trustProxy,
    return503OnClosing: true,
  };
}
