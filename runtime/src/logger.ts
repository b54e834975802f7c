import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs (one object per line) with the service name on every line. Correlation:
 * HTTP services log `reqId` (taken from `x-request-id` when the caller sends one); consumers log
 * the source topic/partition/offset; anything else takes a child logger with `correlationId`.
 */
export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['*.password', '*.apiKey', 'req.headers.authorization', 'req.headers["x-api-key"]'],
      censor: '***',
    },
  });
}

export function withCorrelation(logger: Logger, correlationId: string = randomUUID()): Logger {
  return logger.child({ correlationId });
}

/** Accepts a caller's request id if it is a sane token, else makes one; used as Fastify's genReqId. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}
