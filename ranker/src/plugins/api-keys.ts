import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RankerErrorCode, RequestRefused } from '../errors.ts';

export interface CallerIdentity {
  /** onRequest hook: refuses a request without a valid key when keys are configured. */
  readonly check: (request: FastifyRequest) => Promise<void>;
  /** The rate-limit bucket of a request: a digest of its key, or its address without keys. */
  readonly bucketOf: (request: FastifyRequest) => string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Optional API keys. Presented keys are compared by SHA-256 digest in a set: the lookup time says
 * nothing about how close a guess was, and only digests stay in memory.
 */
export function callerIdentity(keys: readonly string[]): CallerIdentity {
  const accepted = new Set(keys.map(sha256));
  const required = accepted.size > 0;
  const keyOf = (request: FastifyRequest): string | undefined => {
    const header = request.headers['x-api-key'];
    const value = typeof header === 'string' ? header : header?.[0];
    if (value) return value;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    return bearer?.[1];
  };
  return {
    check: async (request) => {
      if (!required) return;
      const key = keyOf(request);
      if (key === undefined) {
        throw new RequestRefused(401, RankerErrorCode.UNAUTHENTICATED, 'x-api-key: an API key is required', {
          field: 'x-api-key',
          headers: { 'www-authenticate': 'Bearer realm="searchop-ranker"' },
        });
      }
      if (!accepted.has(sha256(key))) {
        throw new RequestRefused(403, RankerErrorCode.FORBIDDEN, 'x-api-key: not a valid API key', {
          field: 'x-api-key',
        });
      }
    },
    bucketOf: (request) => {
      const key = required ? keyOf(request) : undefined;
      return key === undefined ? `address:${request.ip}` : `key:${sha256(key).slice(0, 24)}`;
    },
  };
}
