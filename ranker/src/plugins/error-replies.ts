import type { FastifyError } from 'fastify';
import { RankerErrorCode, RequestRefused } from '../errors.ts';
import { formatPath } from './json-text.ts';

export interface ErrorReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: { code: string; message: string; field?: string; request_id?: string } };
}

interface SchemaIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

/**
 * Turns anything thrown while serving a request into the answer: refusals say what was wrong and
 * where; anything else is a 500 that carries only the request id (the details are logged).
 */
export function errorReply(error: unknown, requestId: string): ErrorReply {
  if (error instanceof RequestRefused)
    return reply(error.statusCode, error.code, error.message, error.field, error.headers);
  const e = error as Partial<FastifyError> & { validation?: SchemaIssue[] };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    return schemaReply(e.validation[0]!, e.validationContext ?? 'body');
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply(413, RankerErrorCode.BODY_TOO_LARGE, '(body): larger than this endpoint accepts', '(body)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply(415, RankerErrorCode.UNSUPPORTED_MEDIA_TYPE, 'content-type: send application/json', 'content-type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply(400, RankerErrorCode.MALFORMED_BODY, '(body): the body is empty; send a JSON object', '(body)');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return reply(400, RankerErrorCode.MALFORMED_BODY, 'content-length: does not match the body', 'content-length');
    default:
      break;
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply(e.statusCode, RankerErrorCode.MALFORMED_BODY, 'the request cannot be read');
  }
  const internal = reply(500, RankerErrorCode.INTERNAL, `internal error; quote request id ${requestId}`);
  internal.body.error.request_id = requestId;
  return internal;
}

function schemaReply(issue: SchemaIssue, context: string): ErrorReply {
  const segments = issue.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replaceAll('~1', '/').replaceAll('~0', '~')));
  const property = issue.params['missingProperty'] ?? issue.params['additionalProperty'];
  if (typeof property === 'string') segments.push(property);
  const field = context === 'body' ? formatPath(segments) : segments.length > 0 ? formatPath(segments) : context;
  let message: string;
  switch (issue.keyword) {
    case 'additionalProperties':
      message = 'is not a known field';
      break;
    case 'required':
      message = 'is required';
      break;
    case 'type':
      message = Array.isArray(issue.params['type'])
        ? 'must be a product id (string) or an object {"product_id", "retrieval_score"?}'
        : issue.params['type'] === 'number'
          ? 'must be a finite number'
          : `must be ${String(issue.params['type'])}`;
      break;
    case 'minLength':
      message = 'must not be empty';
      break;
    case 'pattern':
      message = 'must contain a non-blank character';
      break;
    default:
      message = issue.message ?? 'is invalid';
  }
  if (issue.keyword === 'maxItems' && field === 'candidates') {
    return reply(400, RankerErrorCode.TOO_MANY_CANDIDATES, `candidates: ${issue.message ?? 'too many items'}`, field);
  }
  return reply(400, RankerErrorCode.INVALID_REQUEST, `${field}: ${message}`, field);
}

function reply(
  status: number,
  code: string,
  message: string,
  field?: string,
  headers: Readonly<Record<string, string>> = {},
): ErrorReply {
  return { status, headers, body: { error: field === undefined ? { code, message } : { code, message, field } } };
}
