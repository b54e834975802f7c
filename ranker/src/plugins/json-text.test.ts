import { describe, expect, it } from 'vitest';
import { depthExceededAt, fieldAt, firstSyntaxError, forbiddenKeyAt } from './json-text.ts';

describe('depthExceededAt', () => {
  it('finds the bracket that opens one level too many, and nothing within the limit', () => {
    const text = '{"candidates":[[[1]]]}';
    expect(depthExceededAt(text, 4)).toBe(-1);
    expect(depthExceededAt(text, 3)).toBe(text.indexOf('[[1') + 1);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(depthExceededAt('{"query":"[[[[{{{{ \\" [[[[","candidates":["a"]}', 2)).toBe(-1);
  });

  it('scans a megabyte of brackets quickly instead of letting JSON.parse recurse through it', () => {
    const text = '['.repeat(1_000_000);
    expect(depthExceededAt(text, 16)).toBe(16);
  });
});

describe('locating a problem in the body', () => {
  it('names the field where a syntax error sits', () => {
    const text = '{"query":"a","candidates":[{"product_id":"x","retrieval_score":NaN}]}';
    const error = firstSyntaxError(text)!;
    expect(text.slice(error.offset, error.offset + 3)).toBe('NaN');
    expect(fieldAt(text, error.offset)).toBe('candidates[0].retrieval_score');
  });

  it('names a trailing comma and a truncated body', () => {
    const trailing = '{"query":"a","candidates":["a",]}';
    expect(fieldAt(trailing, firstSyntaxError(trailing)!.offset)).toBe('candidates[1]');
    const truncated = '{"query":"a","candidates":["a"';
    expect(firstSyntaxError(truncated)).toBeDefined();
  });

  it('finds keys that pollute prototypes, at any depth', () => {
    const text = '{"query":"a","candidates":[{"product_id":"a","__proto__":{"admin":true}}]}';
    const found = forbiddenKeyAt(text)!;
    expect(found.key).toBe('__proto__');
    expect(fieldAt(text, found.offset)).toBe('candidates[0].__proto__');
    expect(forbiddenKeyAt('{"query":"constructor"}')).toBeUndefined();
  });

  it('calls the root (body)', () => {
    expect(fieldAt('  ', 0)).toBe('(body)');
  });
});
