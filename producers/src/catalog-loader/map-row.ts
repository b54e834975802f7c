import { avroTypeOf, topics, validate, type ProductChange } from '@searchop/schemas';
import { v5 as uuidV5 } from 'uuid';
import {
  cleanText,
  currencyDigits,
  decimalToNumber,
  FALSE_WORDS,
  fail,
  formatDecimal,
  hasControlCharacters,
  isBlank,
  ok,
  parseBoolean,
  parseDecimal,
  parseInstant,
  preview,
  toScaledInteger,
  toText,
  toTextList,
  TRUE_WORDS,
  type Result,
} from './convert.ts';
import type { AttributeType, Mapping } from './mapping.ts';

export type Product = NonNullable<ProductChange['product']>;

/** One problem with one field of one row; `reason` names no value so that reasons group across rows. */
export interface FieldIssue {
  readonly field: string;
  readonly reason: string;
  /** A short preview of the offending source value. */
  readonly value?: string;
}

export type RowOutcome =
  | { readonly ok: true; readonly change: ProductChange; readonly warnings: readonly FieldIssue[] }
  | { readonly ok: false; readonly errors: readonly FieldIssue[]; readonly warnings: readonly FieldIssue[] };

export interface MapContext {
  /** occurred_at when the mapping gives none (or the row leaves it blank): the load's start. */
  readonly loadedAt: number;
  /** Larger encoded records are rejected: Kafka refuses a batch above the broker's message.max.bytes. */
  readonly maxRecordBytes: number;
}

/** RFC 9562 name-based (v5) UUIDs under this namespace identify catalogue content. */
export const EVENT_ID_NAMESPACE = '0b6f1f4e-8a52-4d47-9a5c-3f0c1e5d2a71';

/**
 * The event id of a change: a v5 UUID of the product id, op and the mapped product, so a reload of
 * the same file (or of an unchanged product from another file) yields the same ids and consumers
 * can drop it as a duplicate, while any change of content yields a new id. occurred_at is left
 * out on purpose: the same state loaded twice is the same event.
 */
export function eventIdOf(productId: string, op: ProductChange['op'], product: Product | null): string {
  // Bytes, not a string: uuid's own string encoding is a slow per-character loop.
  return uuidV5(Buffer.from(JSON.stringify([productId, op, product]), 'utf8'), EVENT_ID_NAMESPACE);
}

/** Dates outside this range are export sentinels ("0001-01-01", "9999-12-31") or unit mistakes, not dates. */
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

const AVAILABLE_WORDS = {
  true: [...TRUE_WORDS, 'in stock', 'instock', 'in_stock', 'available', 'preorder', 'pre-order', 'backorder'],
  false: [...FALSE_WORDS, 'out of stock', 'outofstock', 'out_of_stock', 'unavailable', 'sold out', 'discontinued'],
};

interface Picked {
  readonly column: string;
  readonly raw: unknown;
}

/** A row's value of a column; dotted names reach into nested objects when no column has that name. */
export function columnValue(row: Readonly<Record<string, unknown>>, column: string): unknown {
  if (Object.hasOwn(row, column)) return row[column];
  if (!column.includes('.')) return undefined;
  let value: unknown = row;
  for (const part of column.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The first of the columns whose value is not blank. */
function pick(row: Readonly<Record<string, unknown>>, columns: readonly string[]): Picked | undefined {
  for (const column of columns) {
    const raw = columnValue(row, column);
    if (!isBlank(raw)) return { column, raw };
  }
  return undefined;
}

type Policy = 'reject' | 'omit';

/** Reads and converts fields of one row, collecting errors and warnings as each field's policy says. */
class RowFields {
  readonly errors: FieldIssue[] = [];
  readonly warnings: FieldIssue[] = [];
  readonly #row: Readonly<Record<string, unknown>>;

  constructor(row: Readonly<Record<string, unknown>>) {
    this.#row = row;
  }

  pick(columns: readonly string[]): Picked | undefined {
    return pick(this.#row, columns);
  }

  entries(): [string, unknown][] {
    return Object.entries(this.#row);
  }

  /** A conversion's value, or null with an error ("reject") or a warning ("omit"). */
  settle<T>(field: string, picked: Picked, result: Result<T>, policy: Policy): T | null {
    if (result.ok) return result.value;
    const issue = { field, reason: result.reason, value: preview(picked.raw) };
    if (policy === 'reject') this.errors.push(issue);
    else this.warnings.push({ ...issue, reason: `${result.reason} (omitted)` });
    return null;
  }

  /** A field the product cannot do without: missing or invalid rejects the row. */
  required<T>(field: string, columns: readonly string[], convert: (raw: unknown) => Result<T>): T | null {
    const picked = this.pick(columns);
    if (picked === undefined) {
      this.errors.push({ field, reason: `missing (column ${columns.join(' or ')})` });
      return null;
    }
    return this.settle(field, picked, convert(picked.raw), 'reject');
  }

  /** A field that may be unmapped or blank (null then), converted as its spec says. */
  optional<S extends { readonly column: readonly string[]; readonly onInvalid: Policy }, T>(
    field: string,
    spec: S | undefined,
    convert: (raw: unknown, spec: S) => Result<T>,
  ): T | null {
    if (spec === undefined) return null;
    const picked = this.pick(spec.column);
    return picked === undefined ? null : this.settle(field, picked, convert(picked.raw, spec), spec.onInvalid);
  }
}

/**
 * Maps one source row to a ProductChange, or to every problem that keeps it from being one. Pure:
 * the same row and mapping always give the same change (occurred_at aside when it is the load time).
 */
export function mapRow(row: Readonly<Record<string, unknown>>, mapping: Mapping, context: MapContext): RowOutcome {
  const fields = new RowFields(row);
  const { errors, warnings } = fields;

  // Kept exact (no cleaning): it is the record key.
  const productId = fields.required('product_id', mapping.product_id.column, (raw) =>
    productIdOf(raw, mapping.product_id.maxLength),
  );

  const deleteSpec = mapping.delete;
  const deletePicked = deleteSpec && fields.pick(deleteSpec.column);
  const isDelete =
    deletePicked !== undefined &&
    typeof deletePicked.raw !== 'object' &&
    deleteSpec!.values.some((v) => v.toLowerCase() === String(deletePicked.raw).trim().toLowerCase());

  const occurredAt =
    fields.optional('occurred_at', mapping.occurred_at, (raw, spec) => inRange(parseInstant(raw, spec.format))) ??
    context.loadedAt;

  const product = isDelete ? null : mapProduct(fields, mapping);

  if (errors.length > 0 || productId === null) return { ok: false, errors, warnings };
  const op = isDelete ? 'DELETE' : 'UPSERT';
  const change: ProductChange = {
    event_id: eventIdOf(productId, op, product),
    occurred_at: occurredAt,
    product_id: productId,
    op,
    product,
  };
  // Encoding is the safety net (whatever the conversions missed is caught here, with field paths,
  // rather than by the producer mid-load) and measures the record against the size limit.
  let bytes: number;
  try {
    bytes = avroTypeOf(topics.catalog).toBuffer(change).length;
  } catch {
    const problems = validate(topics.catalog, change);
    return {
      ok: false,
      errors:
        problems.length > 0
          ? problems.map((p) => ({ field: p.path, reason: p.reason }))
          : [{ field: '(record)', reason: 'cannot be encoded' }],
      warnings,
    };
  }
  if (bytes > context.maxRecordBytes)
    return {
      ok: false,
      errors: [
        {
          field: '(record)',
          reason: `encoded record larger than ${context.maxRecordBytes} bytes`,
          value: `${bytes} bytes`,
        },
      ],
      warnings,
    };
  return { ok: true, change, warnings };
}

function mapProduct(fields: RowFields, mapping: Mapping): Product {
  const { decimalSeparator, literalEscapes } = mapping;
  let title = fields.required('title', mapping.title.column, (raw) => textOf(raw, mapping.title, literalEscapes));
  if (title === '') {
    fields.errors.push({
      field: 'title',
      reason: 'blank once cleaned',
      value: preview(fields.pick(mapping.title.column)?.raw),
    });
    title = null;
  }
  const brand = fields.optional('brand', mapping.brand, (raw, spec) => textOf(raw, spec, literalEscapes)) || null;
  const categoryPath = categoryPathOf(fields, mapping);
  const currencySpec = mapping.currency;
  const currencyColumn =
    currencySpec?.column === undefined ? undefined : { column: currencySpec.column, onInvalid: currencySpec.onInvalid };
  const currency = fields.optional('currency', currencyColumn, currencyOf) ?? currencySpec?.value ?? null;
  const price = fields.optional('price_minor', mapping.price_minor, (raw, spec) =>
    priceOf(raw, spec.unit, currency, decimalSeparator),
  );
  const rating = fields.optional('rating', mapping.rating, (raw, spec) => ratingOf(raw, spec.scale, decimalSeparator));
  const reviewCount = fields.optional('review_count', mapping.review_count, (raw) => countOf(raw, decimalSeparator));
  const available = fields.optional('available', mapping.available, (raw, spec) =>
    availabilityOf(raw, spec.trueValues, spec.falseValues, decimalSeparator),
  );
  const releasedAt = fields.optional('released_at', mapping.released_at, (raw, spec) =>
    inRange(parseInstant(raw, spec.format)),
  );

  // Product fields in schema order: the event id hashes this object's JSON.
  return {
    title: title ?? '',
    brand,
    category_path: categoryPath,
    price_minor: price?.minor ?? null,
    currency: currency ?? price?.currency ?? null,
    rating,
    review_count: reviewCount ?? 0,
    available: available ?? mapping.available?.whenMissing ?? true,
    released_at: releasedAt,
    attributes: attributesOf(fields, mapping),
  };
}

function productIdOf(raw: unknown, maxLength: number): Result<string> {
  let id: string;
  if (typeof raw === 'string') id = raw.trim();
  else if (typeof raw === 'bigint') id = raw.toString();
  else if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) return fail('a number that is not an exact integer; quote ids in the source');
    id = String(raw);
  } else return fail('not text or an integer');
  if (hasControlCharacters(id)) return fail('has control characters');
  if (id.length > maxLength) return fail(`longer than ${maxLength} characters`);
  return ok(id);
}

function textOf(
  raw: unknown,
  spec: { readonly html: boolean; readonly maxLength: number },
  literalEscapes: boolean,
): Result<string> {
  const text = toText(raw);
  if (!text.ok) return text;
  const clean = cleanText(text.value, { html: spec.html, literalEscapes });
  if (clean.length > spec.maxLength) return fail(`longer than ${spec.maxLength} characters`);
  return ok(clean);
}

function categoryPathOf(fields: RowFields, mapping: Mapping): string[] {
  const spec = mapping.category_path;
  if (spec === undefined) return [];
  const segments: { picked: Picked; raw: unknown }[] = [];
  if (spec.levels) {
    for (const level of spec.levels) {
      const picked = fields.pick([level]);
      if (picked) segments.push({ picked, raw: picked.raw });
    }
  } else if (spec.column) {
    const picked = fields.pick(spec.column);
    if (picked === undefined) return [];
    const list = toTextList(picked.raw, spec.separator);
    if (!list.ok) return fields.settle('category_path', picked, list, spec.onInvalid) ?? [];
    for (const item of list.value) segments.push({ picked, raw: item });
  }
  const path: string[] = [];
  for (const { picked, raw } of segments) {
    const text = toText(raw);
    const clean = text.ok
      ? ok(cleanText(text.value, { html: spec.html, literalEscapes: mapping.literalEscapes }))
      : text;
    if (clean.ok && clean.value === '') continue;
    const checked =
      clean.ok && clean.value.length > spec.maxLength
        ? fail(`a level longer than ${spec.maxLength} characters`)
        : clean;
    const value = fields.settle('category_path', picked, checked, spec.onInvalid);
    if (value === null) return [];
    path.push(value);
  }
  if (path.length > spec.maxDepth)
    return (
      fields.settle(
        'category_path',
        segments[0]!.picked,
        fail(`deeper than ${spec.maxDepth} levels`),
        spec.onInvalid,
      ) ?? []
    );
  return path;
}

/**
 * A price in minor units. Major-unit text may carry an ISO 4217 code before or after the amount,
 * as Google Merchant feeds write it ("15.00 USD"); the code then must agree with the currency.
 */
function priceOf(
  raw: unknown,
  unit: 'major' | 'minor',
  currency: string | null,
  decimalSeparator: '.' | ',',
): Result<{ minor: number; currency: string | null }> {
  let amount = raw;
  let code = currency;
  if (typeof raw === 'string') {
    const m = /^\s*(?:([A-Za-z]{3})\s+)?(.*?)(?:\s+([A-Za-z]{3}))?\s*$/.exec(raw);
    const inline = (m?.[1] ?? m?.[3])?.toUpperCase();
    if (inline !== undefined) {
      if (currency !== null && inline !== currency)
        return fail('currency in the price differs from the currency field');
      code = inline;
      amount = m![2];
    }
  }
  const decimal = parseDecimal(amount, decimalSeparator);
  if (!decimal.ok) return decimal;
  if (decimal.value.coefficient < 0n) return fail('negative');
  let minor: bigint;
  if (unit === 'minor') {
    if (decimal.value.scale > 0) return fail('not a whole number of minor units');
    minor = decimal.value.coefficient;
  } else {
    minor = toScaledInteger(decimal.value, code === null ? 2 : currencyDigits(code));
  }
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return fail('too large');
  return ok({ minor: Number(minor), currency: code });
}

function currencyOf(raw: unknown): Result<string> {
  if (typeof raw !== 'string') return fail('not a currency code');
  const code = raw.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) return fail('not a three-letter ISO 4217 code');
  if (!CURRENCIES.has(code)) return fail('not an ISO 4217 currency');
  return ok(code);
}

function ratingOf(raw: unknown, scale: number, decimalSeparator: '.' | ','): Result<number> {
  const decimal = parseDecimal(raw, decimalSeparator);
  if (!decimal.ok) return decimal;
  const value = decimalToNumber(decimal.value);
  if (value < 0 || value > scale) return fail(`outside 0–${scale}`);
  return ok(scale === 5 ? value : (value / scale) * 5);
}

function countOf(raw: unknown, decimalSeparator: '.' | ','): Result<number> {
  const decimal = parseDecimal(raw, decimalSeparator);
  if (!decimal.ok) return decimal;
  if (decimal.value.scale > 0) return fail('not a whole number');
  if (decimal.value.coefficient < 0n) return fail('negative');
  // Avro int.
  if (decimal.value.coefficient > 2_147_483_647n) return fail('too large');
  return ok(Number(decimal.value.coefficient));
}

function availabilityOf(
  raw: unknown,
  trueValues: readonly string[] | undefined,
  falseValues: readonly string[] | undefined,
  decimalSeparator: '.' | ',',
): Result<boolean> {
  const words = {
    true: trueValues?.map((w) => w.toLowerCase()) ?? AVAILABLE_WORDS.true,
    false: falseValues?.map((w) => w.toLowerCase()) ?? AVAILABLE_WORDS.false,
  };
  const word = parseBoolean(raw, words);
  if (word.ok) return word;
  // A stock quantity.
  const quantity = parseDecimal(raw, decimalSeparator);
  if (quantity.ok) return ok(quantity.value.coefficient > 0n);
  return fail('not a boolean, availability word or quantity');
}

function inRange(result: Result<number>): Result<number> {
  if (!result.ok) return result;
  if (result.value < EARLIEST || result.value >= LATEST) return fail('outside 1900–2099');
  return result;
}

/**
 * Attributes never reject a product: a value that does not convert is left out with a warning.
 * When two columns give the same name (Icecat has `attr_t_maximum_scan_area` "216 x 297" and
 * `attr_n_maximum_scan_area` 8.5), the named column or the earlier prefix rule keeps the plain name
 * and the other is kept as `name@type`, so no value is lost.
 */
function attributesOf(fields: RowFields, mapping: Mapping): Record<string, string> {
  const { warnings } = fields;
  const spec = mapping.attributes;
  if (spec === undefined) return {};
  const candidates: { name: string; rank: number; column: string; type: AttributeType; html: boolean; raw: unknown }[] =
    [];
  let rank = 0;
  for (const [name, named] of Object.entries(spec.columns)) {
    const picked = fields.pick(named.column);
    if (picked)
      candidates.push({
        name,
        rank,
        column: picked.column,
        type: named.type,
        html: named.html ?? spec.html,
        raw: picked.raw,
      });
  }
  rank++;
  // Longest prefix first, so `attr_t_` wins over a generic `attr_`; ties keep the mapping's order.
  const rules = spec.prefixes
    .map((rule, index) => ({ ...rule, index }))
    .sort((a, b) => b.prefix.length - a.prefix.length || a.index - b.index);
  if (rules.length > 0) {
    for (const [column, raw] of fields.entries()) {
      if (isBlank(raw)) continue;
      const rule = rules.find((r) => column.startsWith(r.prefix));
      if (rule === undefined) continue;
      const name = column.slice(rule.prefix.length);
      if (name === '') continue;
      candidates.push({ name, rank: rank + rule.index, column, type: rule.type, html: spec.html, raw });
    }
  }
  candidates.sort((a, b) => a.rank - b.rank || (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));

  const out = new Map<string, string>();
  for (const c of candidates) {
    const field = `attributes.${c.name}`;
    const value = attributeValue(
      c.raw,
      c.type,
      { html: c.html, literalEscapes: mapping.literalEscapes },
      mapping.decimalSeparator,
    );
    if (!value.ok) {
      warnings.push({ field, reason: `${value.reason} (omitted)`, value: preview(c.raw) });
      continue;
    }
    let text = value.value;
    if (text === '') continue;
    if (text.length > spec.maxLength) {
      warnings.push({
        field,
        reason: `longer than ${spec.maxLength} characters (cut)`,
        value: `${text.length} characters`,
      });
      text = `${text.slice(0, spec.maxLength - 1).toWellFormed()}…`;
    }
    let key = c.name;
    if (out.has(key)) key = `${c.name}@${c.type}`;
    if (out.has(key)) {
      warnings.push({ field, reason: 'duplicate attribute name (omitted)', value: c.column });
      continue;
    }
    out.set(key, text);
  }
  let keys = [...out.keys()].sort();
  if (keys.length > spec.maxCount) {
    warnings.push({
      field: 'attributes',
      reason: `more than ${spec.maxCount} attributes (rest omitted)`,
      value: String(keys.length),
    });
    keys = keys.slice(0, spec.maxCount);
  }
  // Sorted keys: the event id hashes the product's JSON, which must not depend on column order.
  // A null-prototype object starts in V8's dictionary mode: with thousands of distinct attribute
  // names across products, ordinary objects would build a new hidden class per key set (4× slower).
  const attributes = Object.create(null) as Record<string, string>;
  for (const k of keys) attributes[k] = out.get(k)!;
  return attributes;
}

function attributeValue(
  raw: unknown,
  type: AttributeType,
  textOptions: { html: boolean; literalEscapes: boolean },
  decimalSeparator: '.' | ',',
): Result<string> {
  switch (type) {
    case 'text': {
      const text = toText(raw);
      return text.ok ? ok(cleanText(text.value, textOptions)) : text;
    }
    case 'number': {
      const decimal = parseDecimal(raw, decimalSeparator);
      return decimal.ok ? ok(formatDecimal(decimal.value)) : fail('not a number');
    }
    case 'boolean': {
      const bool = parseBoolean(raw);
      return bool.ok ? ok(String(bool.value)) : bool;
    }
  }
}
