import { z } from 'zod';
import { ProducerError, ProducerErrorCode } from '../../errors.ts';
import type { Ranker, RankRequest, Ranking } from './ranker.ts';

export interface HttpRankerOptions {
  /** The ranking service's POST /rank URL. */
  readonly url: string;
  /** A slower answer counts as a failure and the storefront shows retrieval order. */
  readonly timeoutMs?: number;
  /** Sent as `x-api-key` when the service requires one. */
  readonly apiKey?: string;
}

/**
 * The body of POST /rank as the ranking service defines it: the query as typed, the candidates in
 * retrieval order with their scores, and who asks (user_id left out for shoppers who are not logged in).
 */
export interface RankRequestBody {
  readonly query: string;
  readonly candidates: readonly { readonly product_id: string; readonly retrieval_score: number }[];
  readonly user_id?: string;
  readonly session_id: string;
}

/** What is read back: the ranking's id (echoed in the impression) and the products, best first. */
const rankResponse = z.object({
  request_id: z.string().min(1),
  results: z.array(z.object({ product_id: z.string() })),
});

/** Ranks through the live ranking service: the closed loop, and load on /rank at the simulator's rate. */
export function httpRanker(options: HttpRankerOptions): Ranker {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  return {
    name: 'http',
    async rank(request: RankRequest): Promise<Ranking> {
      const body: RankRequestBody = {
        query: request.query,
        candidates: request.candidates.map((c) => ({ product_id: c.productId, retrieval_score: c.retrievalScore })),
        ...(request.userId === null ? {} : { user_id: request.userId }),
        session_id: request.sessionId,
      };
      let response: Response;
      let payload: unknown;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        payload = await response.json().catch(() => undefined);
      } catch (cause) {
        throw failure(`POST ${options.url} failed: ${(cause as Error).message}`, cause);
      }
      if (!response.ok) throw failure(`POST ${options.url} answered ${response.status}: ${JSON.stringify(payload)}`);
      const parsed = rankResponse.safeParse(payload);
      if (!parsed.success) throw failure(`POST ${options.url} answered an unreadable body: ${parsed.error.message}`);
      return { productIds: parsed.data.results.map((r) => r.product_id), requestId: parsed.data.request_id };
    },
  };
}

function failure(message: string, cause?: unknown): ProducerError {
  return new ProducerError(ProducerErrorCode.RANK_UNAVAILABLE, message, {
    retriable: true,
    ...(cause === undefined ? {} : { cause }),
  });
}
