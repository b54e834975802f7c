import { FEATURE_COUNT, FEATURE_SPEC_VERSION, type BuiltValue, type RankingLog } from '@searchop/schemas';

/**
 * A feature-log record as the ranker builds it: each item's features are a view of the request's
 * feature matrix (no copy), which the codec writes as the schema's array of doubles.
 */
export type RankingLogRecord = BuiltValue<RankingLog>;

/**
 * A ranking as served, kept in the shape the request already has (typed arrays, no copies) until the
 * feature log turns it into a RankingLog record, off the request's path.
 */
export interface ServedRanking {
  readonly requestId: string;
  readonly occurredAt: number;
  readonly query: string;
  readonly normalizedQuery: string;
  readonly userId: string | undefined;
  readonly sessionId: string | undefined;
  readonly modelVersion: number | undefined;
  readonly degradedReason: string | undefined;
  readonly ids: readonly string[];
  /** Row-major [ids.length × FEATURE_COUNT]. */
  readonly features: Float64Array;
  /** Model scores by input index; undefined when no model scored the list. */
  readonly scores: Float64Array | undefined;
  /** NaN where none was sent. */
  readonly retrievalScores: Float64Array;
  /** Input indices of the served items, best first (already cut to the request's limit). */
  readonly served: Uint32Array;
}

/** The feature-log record of a served ranking: the served items in order with their exact vectors. */
export function rankingLogRecord(ranking: ServedRanking): RankingLogRecord {
  const items: RankingLogRecord['items'] = new Array<RankingLogRecord['items'][number]>(ranking.served.length);
  for (let position = 0; position < ranking.served.length; position++) {
    const index = ranking.served[position]!;
    const retrieval = ranking.retrievalScores[index]!;
    items[position] = {
      product_id: ranking.ids[index]!,
      position: position + 1,
      score: ranking.scores ? ranking.scores[index]! : null,
      retrieval_score: Number.isNaN(retrieval) ? null : retrieval,
      features: ranking.features.subarray(index * FEATURE_COUNT, (index + 1) * FEATURE_COUNT),
    };
  }
  return {
    request_id: ranking.requestId,
    occurred_at: ranking.occurredAt,
    query: ranking.query,
    normalized_query: ranking.normalizedQuery,
    user_id: ranking.userId ?? null,
    session_id: ranking.sessionId ?? null,
    model_version: ranking.modelVersion ?? null,
    feature_spec_version: FEATURE_SPEC_VERSION,
    degraded: ranking.degradedReason !== undefined,
    degraded_reason: ranking.degradedReason ?? null,
    items,
  };
}
