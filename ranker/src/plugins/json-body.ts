import type { FastifyInstance } from 'fastify';
import { RankerErrorCode, RequestRefused } from '../errors.ts';
import { depthExceededAt, fieldAt, firstSyntaxError, forbiddenKeyAt } from './json-text.ts';

export interface JsonBodyOptions {
  readonly bodyLimitBytes: number;
  readonly maxDepth: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * The only body the ranker reads: application/json, strictly. Every other content type is refused
 * with 415 (Fastify's text/plain parser is removed too). The bytes must be valid UTF-8 (Fastify's own
 * parser would silently turn invalid bytes into U+FFFD), nesting is bounded before parsing, and keys
 * that pollute prototypes (__proto__, constructor.prototype) are refused by Fastify's secure parser.
 * Each refusal names the field where the problem is.
 */
export function installJsonBody(app: FastifyInstance, options: JsonBodyOptions): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes },
    (request, body: Buffer, done) => {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        const lenient = lenientUtf8.decode(body);
        const field = fieldAt(lenient, Math.max(0, lenient.indexOf('\uFFFD')));
        done(malformed(field, 'the body is not valid UTF-8'), undefined);
        return;
      }
      const deep = depthExceededAt(text, options.maxDepth);
      if (deep >= 0) {
        const field = fieldAt(text, deep);
        done(malformed(field, `JSON nested deeper than ${options.maxDepth} levels`), undefined);
        return;
      }
      void secureParse(request, text, (error, value) => {
        if (error) done(describeParseError(text), undefined);
        else done(null, value);
      });
    },
  );
}

function malformed(field: string, problem: string): RequestRefused {
  return new RequestRefused(400, RankerErrorCode.MALFORMED_BODY, `${field}: ${problem}`, { field });
}

function describeParseError(text: string): RequestRefused {
  if (text.trim() === '') return malformed('(body)', 'the body is empty; send a JSON object');
  const syntax = firstSyntaxError(text);
  if (syntax) {
    const field = fieldAt(text, syntax.offset);
    const token = /^-?(NaN|Infinity)/.exec(text.slice(syntax.offset, syntax.offset + 10));
    return malformed(
      field,
      token ? `${token[0]} is not a JSON number; send a finite number` : `invalid JSON (${syntax.problem})`,
    );
  }
  const forbidden = forbiddenKeyAt(text);
  if (forbidden) return malformed(fieldAt(text, forbidden.offset), `the key "${forbidden.key}" is not allowed`);
  return malformed('(body)', 'invalid JSON');
}
