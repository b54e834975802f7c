import type { Logger } from '@searchop/runtime';
import { FEATURE_COUNT, FEATURE_NAMES, normalizeQuery, termsOfNormalized } from '@searchop/schemas';
import type { FeatureLogWriter } from './feature-log/feature-log.ts';
import type { FeatureLookup } from './feature-store/guarded-feature-store.ts';
import type { RankerMetrics } from './metrics.ts';
import type { RankingModel } from './model/ranking-model.ts';
import type { CandidateInput, CandidateList } from './scoring/candidates.ts';
import { UNKNOWN_FEATURES, buildFeatureMatrix } from './scoring/feature-matrix.ts';
import { rankingOrder } from './scoring/order.ts';

export interface RankRequest {
  readonly query: string;
  readonly candidates: readonly CandidateInput[];
  readonly user_id?: string;
  readonly session_id?: string;
  readonly limit?: number;
}

export interface RankedResult {
  readonly product_id: string;
  readonly score: number | null;
  readonly position: number;
  readonly features?: Record<string, number | null>;
}

export interface RankResponse {
  readonly request_id: string;
  readonly model_version: number | null;
  readonly degraded: boolean;
  readonly results: RankedResult[];
}

/** Why a ranking was degraded; several may hold at once. */
export type DegradedReason =
  'feature_store_timeout' | 'feature_store_error' | 'circuit_open' | 'no_model' | 'scoring_failed';

export interface RankerDeps {
  readonly features: {
    lookup(
      normalizedQuery: string,
      queryTerms: readonly string[],
      productIds: readonly string[],
    ): Promise<FeatureLookup>;
  };
  readonly models: { acquire(): RankingModel | undefined };
  readonly featureLog: FeatureLogWriter;
  readonly metrics: RankerMetrics;
  readonly logger: Logger;
  /** Epoch milliseconds now: the "as of" of windowed features. */
  readonly clock: () => number;
}

/**
 * One ranking: features from the store (or the spec's defaults when it is slow or down), scores from
 * the model the request started with (or the input order without one), the served list logged for
 * the trainer. Degradation is an answer, not an error: this never fails for the store's or the
 * model's sake.
 */
export class Ranker {
  readonly #deps: RankerDeps;

  constructor(deps: RankerDeps) {
    this.#deps = deps;
  }

  async rank(
    requestId: string,
    request: RankRequest,
    candidates: CandidateList,
    explain: boolean,
  ): Promise<RankResponse> {
    const { metrics, logger } = this.#deps;
    const nowMs = this.#deps.clock();
    const normalizedQuery = normalizeQuery(request.query);
    // One normalisation (Unicode NFKC and six regular expressions) serves the key and the terms.
    const queryTerms = termsOfNormalized(normalizedQuery);
    const count = candidates.ids.length;
    metrics.candidates.observe(count);
    const model = this.#deps.models.acquire();
    try {
      const reasons: DegradedReason[] = [];
      const lookup = await this.#deps.features.lookup(normalizedQuery, queryTerms, candidates.ids);
      if (!lookup.ok) reasons.push(lookup.reason);
      const snapshot = lookup.ok ? lookup.snapshot : UNKNOWN_FEATURES;
      const matrix = buildFeatureMatrix(queryTerms, snapshot, candidates.retrievalScores, nowMs);

      let scores: Float64Array | undefined;
      if (model) {
        const started = performance.now();
        try {
          scores = await model.score(matrix, count);
          metrics.scoringSeconds.observe((performance.now() - started) / 1000);
        } catch (error) {
          reasons.push('scoring_failed');
          logger.error({ err: error, requestId, modelVersion: model.version }, 'scoring failed: serving input order');
        }
      } else {
        reasons.push('no_model');
      }
      for (const reason of reasons) metrics.degraded.inc({ reason });

      const order = rankingOrder(count, scores);
      const served = request.limit !== undefined && request.limit < count ? order.subarray(0, request.limit) : order;
      this.#deps.featureLog.offer({
        requestId,
        occurredAt: nowMs,
        query: request.query,
        normalizedQuery,
        userId: request.user_id,
        sessionId: request.session_id,
        modelVersion: scores ? model?.version : undefined,
        degradedReason: reasons.length > 0 ? reasons.join(',') : undefined,
        ids: candidates.ids,
        features: matrix,
        scores,
        retrievalScores: candidates.retrievalScores,
        served,
      });

      const results: RankedResult[] = new Array<RankedResult>(served.length);
      for (let position = 0; position < served.length; position++) {
        const index = served[position]!;
        const score = scores ? scores[index]! : Number.NaN;
        const result = {
          product_id: candidates.ids[index]!,
          score: Number.isFinite(score) ? score : null,
          position: position + 1,
        };
        results[position] = explain ? { ...result, features: namedFeatures(matrix, index) } : result;
      }
      return {
        request_id: requestId,
        model_version: scores && model ? model.version : null,
        degraded: reasons.length > 0,
        results,
      };
    } finally {
      model?.release();
    }
  }
}

function namedFeatures(matrix: Float64Array, row: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (let f = 0; f < FEATURE_COUNT; f++) {
    const value = matrix[row * FEATURE_COUNT + f]!;
    out[FEATURE_NAMES[f]!] = Number.isFinite(value) ? value : null;
  }
  return out;
}
