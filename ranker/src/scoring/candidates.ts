/** A candidate as POST /rank accepts it: a bare product id, or an object with a retrieval score. */
export type CandidateInput = string | { readonly product_id: string; readonly retrieval_score?: number };

/** The candidates of one request, in input order. */
export interface CandidateList {
  readonly ids: readonly string[];
  /** NaN where the caller sent no retrieval score (the feature spec's missing value). */
  readonly retrievalScores: Float64Array;
}

/** Why a candidate list is refused, naming the offending element. */
export interface CandidateProblem {
  readonly kind: 'duplicate' | 'invalid';
  readonly field: string;
  readonly message: string;
}

/**
 * Reads the candidates that passed the request schema: collects ids and retrieval scores, and refuses
 * a list with the same product twice (which product would get which position is undefined) or a
 * score that is not a finite number (the schema refuses those too; this is the scoring code's own
 * guarantee). Ids are kept in a Map, so "__proto__" or "constructor" are ordinary ids.
 */
export function readCandidates(input: readonly CandidateInput[]): CandidateList | CandidateProblem {
  const ids: string[] = new Array<string>(input.length);
  const retrievalScores = new Float64Array(input.length);
  const firstSeen = new Map<string, number>();
  for (let i = 0; i < input.length; i++) {
    const candidate = input[i]!;
    let id: string;
    let score = Number.NaN;
    if (typeof candidate === 'string') {
      id = candidate;
    } else {
      id = candidate.product_id;
      if (candidate.retrieval_score !== undefined) {
        score = candidate.retrieval_score;
        if (typeof score !== 'number' || !Number.isFinite(score)) {
          return {
            kind: 'invalid',
            field: `candidates[${i}].retrieval_score`,
            message: 'must be a finite number',
          };
        }
      }
    }
    const earlier = firstSeen.get(id);
    if (earlier !== undefined) {
      return {
        kind: 'duplicate',
        field: `candidates[${i}]`,
        message: `duplicate product id ${JSON.stringify(id)} (also candidates[${earlier}])`,
      };
    }
    firstSeen.set(id, i);
    ids[i] = id;
    retrievalScores[i] = score;
  }
  return { ids, retrievalScores };
}

export function isCandidateProblem(value: CandidateList | CandidateProblem): value is CandidateProblem {
  return 'kind' in value;
}
