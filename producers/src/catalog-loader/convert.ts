import { compile } from 'html-to-text';

/**
 * Conversions of single source values (whatever a CSV, JSON Lines or Parquet reader yields: strings,
 * numbers, bigints, booleans, Dates, Buffers, arrays, objects) into the types of the catalogue
 * schema. Pure: a conversion either gives a value or a short reason that names no value, so that
 * the load report can group reasons across rows; the offending value is shown separately.
 */

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
export function fail(reason: string): Result<never> {
  return { ok: false, reason };
}

/** Missing values: absent, null, blank text, an empty list. A field with a blank value is unmapped, not invalid. */
export function isBlank(raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  if (typeof raw === 'string') return raw.trim() === '';
  if (Array.isArray(raw)) return raw.every(isBlank);
  return false;
}

/** A short, printable rendering of a source value for reports (never the whole of a huge string). */
export function preview(raw: unknown, max = 60): string {
  let text: string;
  if (typeof raw === 'string') text = JSON.stringify(raw);
  else if (typeof raw === 'bigint') text = raw.toString();
  else if (raw instanceof Date) text = Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
  else if (raw instanceof Uint8Array) text = `<${raw.length} bytes>`;
  else {
    try {
      text = JSON.stringify(raw) ?? String(raw);
    } catch {
      text = String(raw);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Text

/** C0 and C1 control characters, DEL included; tabs and newlines are among them and become spaces. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE_RUN = /\s+/g;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;

/**
 * html-to-text parses with htmlparser2, so malformed markup, comments, <script>/<style> and
 * entities are handled as a browser would rather than by a regex. Block elements become line
 * breaks, which cleanText() folds into single spaces. Images and link targets carry no text.
 */
const htmlToText = compile({
  wordwrap: false,
  decodeEntities: true,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'th', format: 'block' },
    { selector: 'td', format: 'block' },
    { selector: 'table', format: 'block' },
    { selector: 'ul', options: { itemPrefix: ' ' } },
    { selector: 'ol', options: { itemPrefix: ' ' } },
  ],
});
/** `\n`, `\r` and `\t` written out as two characters by an export that escaped its text twice. */
const LITERAL_ESCAPE = /\\[nrt]/g;
const LOOKS_LIKE_HTML = /<[a-z!/?]|&(?:#\d+|#x[\da-f]+|[a-z][a-z\d]*);/i;

/**
 * One-line display text: literal escapes to spaces (when asked), HTML to text (when asked and the value looks like markup or has entities),
 * Unicode NFC, lone surrogates replaced, control characters and whitespace runs folded into single
 * spaces, trimmed.
 */
export function cleanText(
  text: string,
  { html, literalEscapes = false }: { html: boolean; literalEscapes?: boolean },
): string {
  let out = literalEscapes ? text.replace(LITERAL_ESCAPE, ' ') : text;
  if (html && LOOKS_LIKE_HTML.test(out)) out = htmlToText(out);
  if (!out.isWellFormed()) out = out.toWellFormed();
  // NFC is a no-op on ASCII, which most catalogue text is; the test is far cheaper than ICU.
  if (!ASCII.test(out)) out = out.normalize('NFC');
  return out.replace(CONTROL, ' ').replace(WHITESPACE_RUN, ' ').trim();
}

export function hasControlCharacters(text: string): boolean {
  return HAS_CONTROL.test(text);
}

/**
 * Parses a list written into a single text value, as exports of list columns do: JSON
 * (`["a", "b"]`) or Python's repr (`['a', "b's"]`). Anything else is not a list (undefined).
 */
export function parseListLiteral(text: string): string[] | undefined {
  const s = text.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) return undefined;
  try {
    const parsed: unknown = JSON.parse(s);
    if (Array.isArray(parsed) && parsed.every((x) => ['string', 'number', 'boolean'].includes(typeof x)))
      return parsed.map(String);
  } catch {
    // not JSON; try the Python form below
  }
  const items: string[] = [];
  let i = 1;
  const skipSpaces = () => {
    while (i < s.length - 1 && /\s/.test(s[i]!)) i++;
  };
  skipSpaces();
  if (i === s.length - 1) return [];
  for (;;) {
    const quote = s[i];
    if (quote !== "'" && quote !== '"') return undefined;
    let item = '';
    i++;
    while (i < s.length - 1 && s[i] !== quote) {
      if (s[i] === '\\' && i + 1 < s.length - 1) i++;
      item += s[i];
      i++;
    }
    if (s[i] !== quote) return undefined;
    i++;
    items.push(item);
    skipSpaces();
    if (i === s.length - 1) return items;
    if (s[i] !== ',') return undefined;
    i++;
    skipSpaces();
  }
}

/**
 * Any scalar (or list of scalars) as text. Lists, real or written as a literal, are joined with
 * ", "; objects are not text.
 */
export function toText(raw: unknown): Result<string> {
  if (typeof raw === 'string') {
    const list = parseListLiteral(raw);
    return ok(list === undefined ? raw : list.filter((x) => !isBlank(x)).join(', '));
  }
  if (typeof raw === 'number') return Number.isFinite(raw) ? ok(String(raw)) : fail('not a finite number');
  if (typeof raw === 'bigint' || typeof raw === 'boolean') return ok(String(raw));
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? fail('invalid date') : ok(raw.toISOString());
  if (raw instanceof Uint8Array) return ok(Buffer.from(raw).toString('utf8'));
  if (Array.isArray(raw)) {
    const parts: string[] = [];
    for (const item of raw) {
      if (isBlank(item)) continue;
      if (Array.isArray(item) || (typeof item === 'object' && !(item instanceof Date) && !(item instanceof Uint8Array)))
        return fail('a nested list or object, expected text');
      const part = toText(item);
      if (!part.ok) return part;
      parts.push(part.value);
    }
    return ok(parts.join(', '));
  }
  return fail('an object, expected text');
}

/** The items of a list value: a real list, a list literal, or a text split on `separator`. */
export function toTextList(raw: unknown, separator: string): Result<string[]> {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = parseListLiteral(raw) ?? raw.split(separator);
  else {
    const one = toText(raw);
    if (!one.ok) return one;
    items = [one.value];
  }
  const out: string[] = [];
  for (const item of items) {
    if (isBlank(item)) continue;
    const text = toText(item);
    if (!text.ok) return text;
    out.push(text.value);
  }
  return ok(out);
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** An exact decimal: `coefficient × 10^-scale`. Exact so that "12.99" becomes 1299 minor units, not 1298.9999. */
export interface Decimal {
  readonly coefficient: bigint;
  readonly scale: number;
}

export type DecimalSeparator = '.' | ',';

const PLAIN_NUMBER = /^([+-]?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/**
 * Parses a number given as a number, a bigint or text. Text may group thousands with the other
 * separator in groups of three ("1,234.50" or, with ",", "1.234,50" and "1 234,50"); any other
 * shape ("12,5" when the separator is ".", "12.99 EUR", "$5") is not a number, so that an
 * ambiguous value is an error rather than a silently wrong price.
 */
export function parseDecimal(raw: unknown, decimalSeparator: DecimalSeparator = '.'): Result<Decimal> {
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return fail('not a finite number');
    text = String(raw);
  } else if (typeof raw === 'bigint') {
    return ok({ coefficient: raw, scale: 0 });
  } else if (typeof raw === 'string') {
    text = normalizeNumberText(raw.trim(), decimalSeparator) ?? '';
  } else {
    return fail('not a number');
  }
  const m = PLAIN_NUMBER.exec(text);
  if (!m) return fail('not a number');
  const [, sign = '', whole = '', fraction = '', exponentText] = m;
  if (whole.length + fraction.length > 40) return fail('more than 40 digits');
  let coefficient = BigInt(whole + fraction);
  if (sign === '-') coefficient = -coefficient;
  let scale = fraction.length - Number(exponentText ?? 0);
  if (Math.abs(scale) > 40) return fail('exponent out of range');
  if (scale < 0) {
    coefficient *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return ok(reduce({ coefficient, scale }));
}

function normalizeNumberText(text: string, decimalSeparator: DecimalSeparator): string | undefined {
  const group = decimalSeparator === '.' ? '[,\u00a0\u202f ]' : '[.\u00a0\u202f ]';
  const escapedDecimal = decimalSeparator === '.' ? '\\.' : ',';
  const grouped = new RegExp(`^([+-]?)(\\d{1,3}(?:${group}\\d{3})+)(?:${escapedDecimal}(\\d+))?$`);
  const m = grouped.exec(text);
  if (m) return `${m[1]}${m[2]!.replace(/\D/g, '')}${m[3] === undefined ? '' : `.${m[3]}`}`;
  if (decimalSeparator === ',') {
    // "12.5" is no number where "," is the decimal separator (and "." only groups thousands).
    if (text.includes('.')) return undefined;
    return text.replace(',', '.');
  }
  return text;
}

function reduce({ coefficient, scale }: Decimal): Decimal {
  while (scale > 0 && coefficient % 10n === 0n) {
    coefficient /= 10n;
    scale--;
  }
  return { coefficient, scale };
}

/** Canonical text of a decimal: no exponent, no trailing zeros ("65.0" → "65", "1.830" → "1.83"). */
export function formatDecimal({ coefficient, scale }: Decimal): string {
  const negative = coefficient < 0n;
  const digits = (negative ? -coefficient : coefficient).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

export function decimalToNumber(d: Decimal): number {
  return Number(formatDecimal(d));
}

/**
 * Rescales a decimal to `digits` fraction digits as an integer, rounding half away from zero
 * (a feed's sub-cent prices such as 12.995 are commercial rounding, not errors).
 */
export function toScaledInteger({ coefficient, scale }: Decimal, digits: number): bigint {
  if (digits >= scale) return coefficient * 10n ** BigInt(digits - scale);
  const divisor = 10n ** BigInt(scale - digits);
  const quotient = coefficient / divisor;
  const remainder = coefficient % divisor;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice >= divisor) return coefficient < 0n ? quotient - 1n : quotient + 1n;
  return quotient;
}

/** ISO 4217 exponent of a currency (JPY 0, EUR 2, BHD 3) from the platform's own CLDR data. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Booleans

export const TRUE_WORDS = ['true', 't', 'yes', 'y', '1', 'on'] as const;
export const FALSE_WORDS = ['false', 'f', 'no', 'n', '0', 'off'] as const;

export function parseBoolean(
  raw: unknown,
  words: { readonly true: readonly string[]; readonly false: readonly string[] } = {
    true: TRUE_WORDS,
    false: FALSE_WORDS,
  },
): Result<boolean> {
  if (typeof raw === 'boolean') return ok(raw);
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    if (raw === 1 || raw === 1n) return ok(true);
    if (raw === 0 || raw === 0n) return ok(false);
    return fail('not a boolean');
  }
  if (typeof raw !== 'string') return fail('not a boolean');
  const word = raw.trim().toLowerCase().replace(WHITESPACE_RUN, ' ');
  if (words.true.includes(word)) return ok(true);
  if (words.false.includes(word)) return ok(false);
  return fail('not a boolean');
}

// ---------------------------------------------------------------------------------------------
// Instants

export type InstantFormat = 'auto' | 'iso' | 'epoch-millis' | 'epoch-seconds';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** Epoch numbers at or above this are milliseconds in `auto` (1e11 ms is 1973; 1e11 s is year 5138). */
const AUTO_MILLIS_FROM = 1e11;

/**
 * An instant as epoch milliseconds from an ISO 8601 date or date-time (a date alone is midnight
 * UTC; a date-time without offset is read as UTC, never as the loader's local time), from epoch
 * seconds or milliseconds, or from a Date (Parquet timestamps). Other shapes — "03/04/2007" could
 * be March or April — are errors.
 */
export function parseInstant(raw: unknown, format: InstantFormat): Result<number> {
  if (raw instanceof Date) {
    if (format !== 'auto' && format !== 'iso') return fail(`not an epoch number (format ${format})`);
    const t = raw.getTime();
    return Number.isNaN(t) ? fail('invalid date') : ok(t);
  }
  if (
    typeof raw === 'number' ||
    typeof raw === 'bigint' ||
    (typeof raw === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(raw))
  ) {
    if (format === 'iso') return fail('not an ISO 8601 date');
    const n = Number(typeof raw === 'string' ? raw.trim() : raw);
    if (!Number.isFinite(n)) return fail('not a finite number');
    const millis = format === 'epoch-millis' || (format === 'auto' && Math.abs(n) >= AUTO_MILLIS_FROM) ? n : n * 1000;
    return ok(Math.round(millis));
  }
  if (typeof raw !== 'string') return fail('not a date');
  if (format === 'epoch-millis' || format === 'epoch-seconds') return fail(`not an epoch number (format ${format})`);
  const m = ISO.exec(raw.trim());
  if (!m) return fail('not an ISO 8601 date');
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m;
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  // Not Date.UTC: it reads years 0–99 as 1900–1999, which would turn a "0001-01-01" sentinel into 1901.
  const check = new Date(0);
  check.setUTCFullYear(year, month, day);
  check.setUTCHours(Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)));
  const millis = check.getTime();
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month ||
    check.getUTCDate() !== day ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return fail('not a calendar date');
  return ok(millis - offsetMillis(offset));
}

function offsetMillis(offset: string | undefined): number {
  if (offset === undefined || offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
}
