import { describe, expect, it } from 'vitest';
import type { ValueProblem } from '@searchop/schemas';
import { catalogProduct } from '@searchop/schemas/testing';
import { validateEvent } from './event.ts';
import { formatDuration, parseIsoDateTime } from './timestamps.ts';

const now = Date.parse('2025-06-01T12:00:00Z');
const limits = { maxPastMs: 30 * 86_400_000, maxFutureMs: 5 * 60_000 };

const click = (overrides: Record<string, unknown> = {}) => ({
  type: 'click',
  event_id: 'e-1',
  occurred_at: now,
  session_id: 's-1',
  product_id: 'p-1',
  ...overrides,
});

const impression = (overrides: Record<string, unknown> = {}) => ({
  type: 'search_impression',
  event_id: 'e-4',
  occurred_at: now,
  query: 'q',
  session_id: 's-1',
  items: [{ product_id: 'p-1', position: 1 }],
  ...overrides,
});

const productChange = (product: Record<string, unknown>) => ({
  type: 'product_change',
  event_id: 'e-2',
  occurred_at: now,
  product_id: 'p-1',
  op: 'UPSERT',
  product,
});

function errorsOf(raw: unknown): readonly ValueProblem[] {
  const result = validateEvent(raw, now, limits);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return result.errors;
}

function eventOf(raw: unknown): Record<string, unknown> {
  const result = validateEvent(raw, now, limits);
  if (!result.ok) throw new Error(`expected a valid event, got ${JSON.stringify(result.errors)}`);
  return result.event as unknown as Record<string, unknown>;
}

describe('validateEvent: the wire format', () => {
  it('fills Avro defaults, derives normalized_query and drops the type discriminator', () => {
    expect(eventOf(click({ query: '  Cordless  DRILL!! ' }))).toEqual({
      event_id: 'e-1',
      occurred_at: now,
      impression_id: null,
      request_id: null,
      query: '  Cordless  DRILL!! ',
      normalized_query: 'cordless drill',
      user_id: null,
      session_id: 's-1',
      product_id: 'p-1',
      position: null,
    });
  });

  it('fills defaults inside nested records too', () => {
    const event = eventOf(productChange({ title: 'Drill' }));
    expect(event['product']).toEqual(catalogProduct('Drill'));
  });

  it('reads occurred_at as epoch milliseconds or ISO-8601 with a zone', () => {
    expect(eventOf(click({ occurred_at: '2025-06-01T13:59:00+02:00' }))['occurred_at']).toBe(now - 60_000);
    expect(eventOf(click({ occurred_at: '2025-06-01T11:00:00.5Z' }))['occurred_at']).toBe(now - 3_599_500);
    expect(errorsOf(click({ occurred_at: '2025-06-01T12:00:00' }))).toEqual([
      { path: 'occurred_at', reason: 'expected epoch milliseconds or an ISO-8601 date-time with a zone (Z or ±hh:mm)' },
    ]);
    expect(errorsOf(click({ occurred_at: 1.5 }))).toEqual([
      { path: 'occurred_at', reason: 'expected an integer (long)' },
    ]);
  });

  it('keeps a normalized_query that matches and refuses one that does not', () => {
    expect(eventOf(click({ query: 'Drill', normalized_query: 'drill' }))['normalized_query']).toBe('drill');
    expect(errorsOf(click({ query: 'Drill', normalized_query: 'Drill' }))).toEqual([
      { path: 'normalized_query', reason: 'differs from normalizeQuery(query) = "drill"; omit it to have it computed' },
    ]);
  });

  it('keeps a "__proto__" attribute key as a plain key', () => {
    const attributes = JSON.parse('{"__proto__": "x", "voltage": "18"}') as Record<string, unknown>;
    const event = eventOf(productChange({ title: 'Drill', attributes }));
    const stored = (event['product'] as { attributes: Record<string, string> }).attributes;
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
    expect(Object.keys(stored)).toEqual(['__proto__', 'voltage']);
  });
});

describe('validateEvent: bad input, each named by field', () => {
  it('refuses a value that is not an object', () => {
    expect(errorsOf([click()])).toEqual([{ path: '(root)', reason: 'expected a JSON object' }]);
    expect(errorsOf('click')).toEqual([{ path: '(root)', reason: 'expected a JSON object' }]);
  });

  it('refuses a missing or unknown event type, listing the known ones', () => {
    const [missing] = errorsOf({ ...click(), type: undefined });
    expect(missing!.path).toBe('type');
    expect(missing!.reason).toMatch(/^required; one of search_impression, click/);
    expect(errorsOf({ ...click(), type: 'page_view' })[0]!.reason).toContain('unknown event type "page_view"');
    expect(errorsOf({ ...click(), type: 'constructor' })[0]!.path).toBe('type');
  });

  it('names wrong types with the type the schema expects', () => {
    expect(errorsOf(click({ position: '2', session_id: 7 }))).toEqual([
      { path: 'session_id', reason: 'expected string' },
      { path: 'position', reason: 'expected null or int' },
    ]);
    expect(errorsOf(impression({ device: 'WATCH', items: [{ product_id: 'p', position: 1.5 }] }))).toEqual([
      { path: 'device', reason: 'expected one of DESKTOP, MOBILE, TABLET, APP, OTHER' },
      { path: 'items.0.position', reason: 'expected an integer (int)' },
    ]);
  });

  it('names every missing required field, nested ones with their path', () => {
    expect(errorsOf({ type: 'purchase' }).map((p) => p.path)).toEqual([
      'event_id',
      'occurred_at',
      'session_id',
      'product_id',
      'order_id',
      'unit_price_minor',
      'currency',
    ]);
    expect(errorsOf(impression({ query: undefined, items: [{ position: 1 }] }))).toEqual([
      { path: 'query', reason: 'required' },
      { path: 'items.0.product_id', reason: 'required' },
    ]);
  });

  it('names unknown fields at any depth', () => {
    expect(errorsOf(click({ colour: 'red' }))).toEqual([{ path: 'colour', reason: 'unknown field' }]);
    expect(errorsOf(impression({ items: [{ product_id: 'p', position: 1, score: 2 }] }))).toEqual([
      { path: 'items.0.score', reason: 'unknown field' },
    ]);
  });

  it('refuses event times beyond the clock-skew bound or older than the age bound', () => {
    expect(errorsOf(click({ occurred_at: now + 5 * 60_000 + 1 }))).toEqual([
      { path: 'occurred_at', reason: '2025-06-01T12:05:00.001Z is more than 5 minutes in the future' },
    ]);
    expect(errorsOf(click({ occurred_at: '2025-04-01T00:00:00Z' }))).toEqual([
      { path: 'occurred_at', reason: '2025-04-01T00:00:00.000Z is more than 30 days in the past' },
    ]);
    expect(validateEvent(click({ occurred_at: now + 5 * 60_000 }), now, limits).ok).toBe(true);
  });

  it('refuses control characters and unpaired surrogates in any string, with their offset', () => {
    expect(errorsOf(click({ query: 'drill\tbits' }))).toEqual([
      { path: 'query', reason: 'contains the control character U+0009 at offset 5' },
    ]);
    expect(errorsOf(click({ product_id: 'p\u0085' }))).toEqual([
      { path: 'product_id', reason: 'contains the control character U+0085 at offset 1' },
    ]);
    expect(errorsOf(click({ user_id: 'u\ud800' }))).toEqual([
      { path: 'user_id', reason: 'contains an unpaired UTF-16 surrogate' },
    ]);
  });

  it('refuses over-long strings and lists without scanning them', () => {
    expect(errorsOf(click({ query: 'q'.repeat(1_000_000) }))).toEqual([
      { path: 'query', reason: 'at most 2048 characters, got 1000000' },
    ]);
    expect(errorsOf(click({ event_id: 'e'.repeat(257) }))).toEqual([
      { path: 'event_id', reason: 'at most 256 characters, got 257' },
    ]);
    const items = Array.from({ length: 1_001 }, (_, i) => ({ product_id: 'p', position: i + 1 }));
    expect(errorsOf(impression({ items }))).toEqual([{ path: 'items', reason: 'at most 1000 entries, got 1001' }]);
  });

  it('refuses empty ids and an empty query', () => {
    expect(errorsOf(click({ session_id: ' ' }))).toEqual([{ path: 'session_id', reason: 'must not be empty' }]);
    expect(errorsOf(impression({ query: '  ', items: [] }))).toEqual([{ path: 'query', reason: 'must not be empty' }]);
  });

  it('checks positions, pages and quantities from 1, amounts from 0, currency codes and ratings', () => {
    expect(errorsOf(click({ position: 0 }))).toEqual([{ path: 'position', reason: 'must be at least 1' }]);
    expect(
      errorsOf({
        type: 'purchase',
        event_id: 'e',
        occurred_at: now,
        session_id: 's',
        product_id: 'p',
        order_id: 'o',
        quantity: 0,
        unit_price_minor: -1,
        currency: 'eur',
      }),
    ).toEqual([
      { path: 'quantity', reason: 'must be at least 1' },
      { path: 'unit_price_minor', reason: 'must be at least 0' },
      { path: 'currency', reason: 'expected an ISO 4217 code of three capital letters' },
    ]);
    expect(errorsOf(productChange({ title: 't', rating: 5.5, review_count: -2 }))).toEqual([
      { path: 'product.rating', reason: 'must be between 0 and 5' },
      { path: 'product.review_count', reason: 'must be at least 0' },
    ]);
  });
});

describe('timestamps', () => {
  it('parses ISO-8601 with Z, offsets with or without a colon and long fractions', () => {
    expect(parseIsoDateTime('2024-12-10T00:01:29.378Z')).toBe(1_733_788_889_378);
    expect(parseIsoDateTime('2024-12-10T01:01:29.378123+0100')).toBe(1_733_788_889_378);
    expect(parseIsoDateTime('2024-12-10T00:01Z')).toBe(1_733_788_860_000);
    expect(parseIsoDateTime('2024-12-10')).toBeUndefined();
    expect(parseIsoDateTime('2024-13-45T00:00:00Z')).toBeUndefined();
  });

  it('states durations in the largest whole unit', () => {
    expect(formatDuration(30 * 86_400_000)).toBe('30 days');
    expect(formatDuration(60_000)).toBe('1 minute');
    expect(formatDuration(1_500)).toBe('1500 ms');
  });
});
