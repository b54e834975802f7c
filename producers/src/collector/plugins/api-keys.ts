import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ProducerErrorCode } from '../../errors.ts';
import { RequestError } from '../request-error.ts';

export interface ApiKeys {
  /** False when no keys are configured: every caller is let in. */
  readonly enabled: boolean;
  /** onRequest hook: 401 without a key, 403 with an unknown one. */
  readonly authenticate: (request: FastifyRequest) => Promise<void>;
  /**
   * Who the caller is, for rate limiting and logs: a digest of its key (never the key itself), or its
   * address when authentication is off.
   */
  readonly callerOf: (request: FastifyRequest) => string;
}

/**
 * API keys are compared as SHA-256 digests: a set lookup on digests reveals nothing about how much
 * of a guessed key matched, unlike comparing strings, and the keys themselves are not kept in memory
 * beyond start-up.
 */
export function apiKeys(keys: readonly string[]): ApiKeys {
  const digests = new Set(keys.map(digest));
  const enabled = digests.size > 0;
  return {
    enabled,
    authenticate: async (request) => {
      if (!enabled) return;
      const key = presentedKey(request);
      if (key === undefined) {
        throw new RequestError(
          401,
          ProducerErrorCode.UNAUTHENTICATED,
          'an API key is required: send it as x-api-key or Authorization: Bearer <key>',
          { headers: { 'www-authenticate': 'Bearer realm="searchop-collector"' } },
        );
      }
      if (!digests.has(digest(key)))
        throw new RequestError(403, ProducerErrorCode.FORBIDDEN, 'the API key is not valid');
    },
    callerOf: (request) => {
      const key = enabled ? presentedKey(request) : undefined;
      return key === undefined ? `ip:${request.ip}` : `key:${digest(key).slice(0, 16)}`;
    },
  };
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct) return direct;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function digest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
