import type { FastifyError } from 'fastify';
import { ProducerError, ProducerErrorCode } from '../errors.ts';

/** A request the collector refuses as a whole, with its HTTP status and the offending field, if one. */
export class RequestError extends ProducerError {
  readonly statusCode: number;
  readonly path: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: ProducerErrorCode,
    message: string,
    options: { path?: string; headers?: Record<string, string> } = {},
  ) {
    super(code, message);
    this.statusCode = statusCode;
    this.path = options.path;
    this.headers = options.headers ?? {};
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly path?: string };
}

interface Described {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The single mapping from anything thrown while handling a request to a status and a body. Client
 * errors say what was wrong; everything else is a 500 whose details go to the log, never the caller.
 */
export function describeError(error: unknown, mediaTypes: string): Described {
  if (error instanceof RequestError) {
    return reply(error.statusCode, error.code, error.message, error.path, error.headers);
  }
  const e = error as Partial<FastifyError> & { validation?: AjvError[] };
  if (e.validation && e.validation.length > 0) {
    const first = e.validation[0]!;
    return reply(
      400,
      ProducerErrorCode.MALFORMED_BODY,
      `${e.validationContext ?? 'body'} ${first.message ?? 'is invalid'}`,
      pathOf(first),
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply(413, ProducerErrorCode.BODY_TOO_LARGE, 'the request body is larger than this route accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply(415, ProducerErrorCode.UNSUPPORTED_MEDIA_TYPE, `unsupported Content-Type; send ${mediaTypes}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return reply(400, ProducerErrorCode.MALFORMED_BODY, e.message ?? 'malformed body');
    default:
      break;
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply(e.statusCode, ProducerErrorCode.MALFORMED_BODY, e.message ?? 'bad request');
  }
  return reply(500, ProducerErrorCode.INTERNAL, 'internal error; it has been logged');
}

interface AjvError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: { readonly missingProperty?: string; readonly additionalProperty?: string };
}

function pathOf(error: AjvError): string {
  const base = (error.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const leaf = error.params?.missingProperty ?? error.params?.additionalProperty;
  if (leaf === undefined) return base || '(root)';
  return base ? `${base}.${leaf}` : leaf;
}

function reply(
  status: number,
  code: string,
  message: string,
  path?: string,
  headers: Readonly<Record<string, string>> = {},
): Described {
  return { status, headers, body: { error: path === undefined ? { code, message } : { code, message, path } } };
}
