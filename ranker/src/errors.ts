import { SearchOpError } from '@searchop/runtime';

/** The ranker's closed list of error codes (RNK_*), like fastify's FST_ERR_*. */
export const RankerErrorCode = {
  /** The body is not JSON the ranker can read: not UTF-8, not JSON, nested too deep, or a forbidden key. */
  MALFORMED_BODY: 'RNK_MALFORMED_BODY',
  /** The body is JSON but a field breaks the request schema; the answer names the field. */
  INVALID_REQUEST: 'RNK_INVALID_REQUEST',
  /** More candidates than RANKER_MAX_CANDIDATES. */
  TOO_MANY_CANDIDATES: 'RNK_TOO_MANY_CANDIDATES',
  /** The same product id twice in one request. */
  DUPLICATE_CANDIDATE: 'RNK_DUPLICATE_CANDIDATE',
  /** The body is larger than RANKER_BODY_LIMIT_BYTES. */
  BODY_TOO_LARGE: 'RNK_BODY_TOO_LARGE',
  /** The Content-Type is not application/json. */
  UNSUPPORTED_MEDIA_TYPE: 'RNK_UNSUPPORTED_MEDIA_TYPE',
  /** API keys are configured and the request has none. */
  UNAUTHENTICATED: 'RNK_UNAUTHENTICATED',
  /** The request's API key is not one of the configured keys. */
  FORBIDDEN: 'RNK_FORBIDDEN',
  /** The caller's key went over its request rate. */
  RATE_LIMITED: 'RNK_RATE_LIMITED',
  NOT_FOUND: 'RNK_NOT_FOUND',
  /** Anything unexpected; details go to the log, never to the caller. */
  INTERNAL: 'RNK_INTERNAL',
  /** The registry pointer file is missing or does not hold a version number. */
  MODEL_POINTER_INVALID: 'RNK_MODEL_POINTER_INVALID',
  /** The model file named by the pointer cannot be read or is not a model onnxruntime can load. */
  MODEL_UNLOADABLE: 'RNK_MODEL_UNLOADABLE',
  /** The model's inputs, outputs or metadata do not match the ranker's feature spec. */
  MODEL_SPEC_MISMATCH: 'RNK_MODEL_SPEC_MISMATCH',
  /** Scoring with a loaded model failed. */
  MODEL_SCORING_FAILED: 'RNK_MODEL_SCORING_FAILED',
  /** The feature store did not answer in time or failed; the ranking degrades instead. */
  FEATURE_STORE_UNAVAILABLE: 'RNK_FEATURE_STORE_UNAVAILABLE',
  /** A feature-log send did not settle in time; its producer is replaced and the batch retried. */
  FEATURE_LOG_SEND_TIMEOUT: 'RNK_FEATURE_LOG_SEND_TIMEOUT',
} as const;
export type RankerErrorCode = (typeof RankerErrorCode)[keyof typeof RankerErrorCode];

export class RankerError extends SearchOpError<RankerErrorCode> {}

/** A request the ranker refuses, with its HTTP status and, where one is to blame, the field's path. */
export class RequestRefused extends RankerError {
  readonly statusCode: number;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: RankerErrorCode,
    message: string,
    options: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(code, message);
    this.statusCode = statusCode;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}
