import { getLocation, printParseErrorCode, visit, type JSONPath } from 'jsonc-parser';

/**
 * Locating problems in a request body's JSON text, to name the offending field in a 400 answer.
 * Only depthExceededAt runs on every request (one pass over the characters); the others run only
 * once a body is already refused.
 */

/**
 * The offset of the first bracket that opens a level deeper than `maxDepth`, or -1. Runs before
 * JSON.parse: V8 parses a megabyte of nested brackets in about a second, which would let one request
 * stall the event loop.
 */
export function depthExceededAt(text: string, maxDepth: number): number {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, honouring escapes (an escaped quote or backslash).
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return -1;
}

/** The first syntax error of a text JSON.parse refused: where, and what jsonc-parser calls it. */
export function firstSyntaxError(text: string): { offset: number; problem: string } | undefined {
  let found: { offset: number; problem: string } | undefined;
  visit(
    text,
    {
      onError(error, offset) {
        found ??= { offset, problem: printParseErrorCode(error) };
      },
    },
    { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false },
  );
  return found;
}

/** The offset of the first property named like one that pollutes prototypes, or -1. */
export function forbiddenKeyAt(text: string): { offset: number; key: string } | undefined {
  let found: { offset: number; key: string } | undefined;
  visit(text, {
    onObjectProperty(property, offset) {
      if (property === '__proto__' || property === 'constructor') found ??= { offset, key: property };
    },
  });
  return found;
}

/** The field at an offset of a JSON text, as `candidates[3].retrieval_score`; `(body)` for the root. */
export function fieldAt(text: string, offset: number): string {
  return formatPath(getLocation(text, offset).path);
}

export function formatPath(path: JSONPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (segment !== '') out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(body)' : out;
}
