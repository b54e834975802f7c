import { describe, expect, it } from 'vitest';
import {
  FEATURE_COUNT,
  FEATURE_DEFAULTS,
  FEATURE_SPEC_VERSION,
  avroTypeOf,
  topics,
  validate,
  type RankingLog,
} from '@searchop/schemas';
import { rankingLogRecord, type ServedRanking } from './served-ranking.ts';

function ranking(overrides: Partial<ServedRanking> = {}): ServedRanking {
  const features = new Float64Array(3 * FEATURE_COUNT);
  for (let i = 0; i < 3; i++) features.set(FEATURE_DEFAULTS, i * FEATURE_COUNT);
  features[2 * FEATURE_COUNT] = 42;
  return {
    requestId: 'req-1',
    occurredAt: Date.UTC(2026, 10, 2),
    query: 'Cordless Drill',
    normalizedQuery: 'cordless drill',
    userId: undefined,
    sessionId: 's-1',
    modelVersion: 3,
    degradedReason: undefined,
    ids: ['a', 'b', 'c'],
    features,
    scores: Float64Array.from([0.1, 0.2, 0.9]),
    retrievalScores: Float64Array.from([Number.NaN, 5, 1]),
    served: Uint32Array.from([2, 1]),
    ...overrides,
  };
}

describe('rankingLogRecord', () => {
  it('logs the served items in served order with their own feature vectors and positions', () => {
    const record = rankingLogRecord(ranking());
    expect(record).toMatchObject({
      request_id: 'req-1',
      normalized_query: 'cordless drill',
      user_id: null,
      session_id: 's-1',
      model_version: 3,
      feature_spec_version: FEATURE_SPEC_VERSION,
      degraded: false,
      degraded_reason: null,
    });
    expect(record.items.map((i) => [i.product_id, i.position, i.score, i.retrieval_score])).toEqual([
      ['c', 1, 0.9, 1],
      ['b', 2, 0.2, 5],
    ]);
    expect(record.items[0]!.features).toHaveLength(FEATURE_COUNT);
    expect(record.items[0]!.features[0]).toBe(42);
    expect(Array.from(record.items[1]!.features)).toEqual(FEATURE_DEFAULTS);
  });

  it('writes each vector as a view of the request matrix, read back as the exact doubles', () => {
    const served = ranking();
    const record = rankingLogRecord(served);
    expect((record.items[0]!.features as Float64Array).buffer).toBe(served.features.buffer);
    const type = avroTypeOf(topics.rankingLog);
    const decoded = type.fromBuffer(type.toBuffer(record)) as RankingLog;
    expect(decoded.items[0]!.features).toEqual(
      Array.from(served.features.subarray(2 * FEATURE_COUNT, 3 * FEATURE_COUNT)),
    );
    expect(decoded.items[1]!.features).toEqual(FEATURE_DEFAULTS);
  });

  it('is a valid RankingLog, missing values (NaN) included', () => {
    expect(validate(topics.rankingLog, rankingLogRecord(ranking()))).toEqual([]);
    const degraded = rankingLogRecord(
      ranking({ scores: undefined, modelVersion: undefined, degradedReason: 'no_model,circuit_open' }),
    );
    expect(degraded).toMatchObject({ degraded: true, degraded_reason: 'no_model,circuit_open', model_version: null });
    expect(degraded.items.every((i) => i.score === null)).toBe(true);
    expect(validate(topics.rankingLog, degraded)).toEqual([]);
  });
});
