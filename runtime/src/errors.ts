/**
 * One base error for every SearchOp package. `code` is from a closed, prefixed list (like fastify's
 * FST_ERR_*), `retriable` says whether the same call may succeed later (kafkajs `retriable`,
 * platformatic/kafka `canRetry`), `cause` keeps the original error.
 */
export class SearchOpError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retriable: boolean;

  constructor(code: Code, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SearchOpError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

export const RuntimeErrorCode = {
  /** A configuration value is missing or invalid; the message names every offending key. */
  CONFIG_INVALID: 'RUN_CONFIG_INVALID',
  /** A file named by the configuration (a CA bundle, say) cannot be read. */
  CONFIG_FILE_UNREADABLE: 'RUN_CONFIG_FILE_UNREADABLE',
  /** A condition polled with a deadline did not hold in time. */
  DEADLINE_EXCEEDED: 'RUN_DEADLINE_EXCEEDED',
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

export function isSearchOpError(error: unknown, code?: string): error is SearchOpError {
  return error instanceof SearchOpError && (code === undefined || error.code === code);
}
