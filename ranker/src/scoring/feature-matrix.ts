import {
  FEATURE_COUNT,
  prepareQuery,
  writeFeatures,
  type CatalogEntry,
  type EntityState,
  type TextStats,
} from '@searchop/schemas';

/**
 * What the feature store knows for one request, decoded. Arrays are indexed like the candidates; an
 * entry that is undefined (or an array shorter than the candidates) is an entity the store does not
 * know, which the feature spec turns into exactly the defaults the trainer uses for missing values.
 */
export interface FeatureSnapshot {
  readonly query: EntityState | undefined;
  readonly global: EntityState | undefined;
  readonly text: TextStats;
  readonly products: readonly (EntityState | undefined)[];
  readonly pairs: readonly (EntityState | undefined)[];
  readonly catalog: readonly (CatalogEntry | undefined)[];
}

export const EMPTY_TEXT_STATS: TextStats = { documents: 0, averageLength: 0, documentFrequency: () => 0 };

/**
 * The snapshot of a degraded request (feature store slow, down or skipped): nothing is known, so
 * every candidate gets the spec's defaults, and only request-time features (the retrieval score)
 * carry information.
 */
export const UNKNOWN_FEATURES: FeatureSnapshot = {
  query: undefined,
  global: undefined,
  text: EMPTY_TEXT_STATS,
  products: [],
  pairs: [],
  catalog: [],
};

/**
 * The [candidates × FEATURE_COUNT] row-major matrix the model scores, built by the feature spec's own
 * code (the same the trainer's backfill runs), so serving cannot drift from training.
 */
export function buildFeatureMatrix(
  queryTerms: readonly string[],
  snapshot: FeatureSnapshot,
  retrievalScores: Float64Array,
  nowMs: number,
): Float64Array {
  const rows = retrievalScores.length;
  const matrix = new Float64Array(rows * FEATURE_COUNT);
  const prepared = prepareQuery({
    queryTerms,
    query: snapshot.query,
    global: snapshot.global,
    text: snapshot.text,
    nowMs,
  });
  for (let i = 0; i < rows; i++) {
    writeFeatures(matrix, i * FEATURE_COUNT, prepared, {
      product: snapshot.products[i],
      pair: snapshot.pairs[i],
      catalog: snapshot.catalog[i],
      retrievalScore: retrievalScores[i]!,
    });
  }
  return matrix;
}
