import {
  avroTypeOf,
  eventTypes,
  normalizeQuery,
  rawSchemaOf,
  validate,
  type EventOf,
  type EventType,
  type ValueProblem,
} from '@searchop/schemas';
import { formatDuration, parseIsoDateTime } from './timestamps.ts';

/**
 * The collector's input check: one JSON value from a request in, a typed event or every problem
 * (field path and reason) out. Pure: the clock reading comes in as an argument.
 *
 * The wire format is the Avro record with `type` added (`{"type": "click", ...fields of click.avsc}`):
 *  - fields absent from the JSON take their Avro default; a field without default is required;
 *  - fields the schema does not have are refused by name (a misspelt optional field would
 *    otherwise vanish silently);
 *  - timestamp-millis fields take epoch milliseconds or an ISO-8601 date-time with a zone;
 *  - normalized_query is computed with normalizeQuery when absent, and refused when it differs
 *    (every per-query feature is keyed by it; a client-side normaliser would split the keys);
 *  - type errors come from the schema itself (avsc), so paths and expected types follow the .avsc;
 *  - on top, what the schema cannot say: the event-time window, control characters, malformed
 *    UTF-16, string and list lengths, positions/pages/quantities ≥ 1, amounts ≥ 0, ISO 4217 shape.
 */

export type TypedEvent = { [T in EventType]: { readonly type: T; readonly event: EventOf<T> } }[EventType];

export type ValidatedEvent =
  | ({ readonly ok: true; readonly eventId: string } & TypedEvent)
  | {
      readonly ok: false;
      readonly type: string | null;
      readonly eventId: string | null;
      readonly errors: readonly ValueProblem[];
    };

export interface ValidationLimits {
  /** Events whose occurred_at is older than now minus this are refused. */
  readonly maxPastMs: number;
  /** Events whose occurred_at is later than now plus this are refused (client clock skew). */
  readonly maxFutureMs: number;
}

/** Ids are opaque but bounded: UBI allows object ids of 256 characters, so that is the bound. */
export const MAX_ID_LENGTH = 256;
export const MAX_TEXT_LENGTH = 2_048;
/** Items of one impression, category levels, attributes of one product. */
export const MAX_LIST_LENGTH = 1_000;

const ID_FIELDS: ReadonlySet<string> = new Set([
  'event_id',
  'request_id',
  'impression_id',
  'user_id',
  'session_id',
  'product_id',
  'order_id',
]);

const eventTypeNames = Object.keys(eventTypes) as EventType[];

export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(eventTypes, type);
}

export function validateEvent(raw: unknown, now: number, limits: ValidationLimits): ValidatedEvent {
  if (!isPlainObject(raw)) {
    return { ok: false, type: null, eventId: null, errors: [{ path: '(root)', reason: 'expected a JSON object' }] };
  }
  const eventId = typeof raw['event_id'] === 'string' ? raw['event_id'] : null;
  const type = raw['type'];
  if (!isEventType(type)) {
    const reason =
      type === undefined
        ? `required; one of ${eventTypeNames.join(', ')}`
        : `unknown event type ${JSON.stringify(type)}; expected one of ${eventTypeNames.join(', ')}`;
    return { ok: false, type: typeof type === 'string' ? type : null, eventId, errors: [{ path: 'type', reason }] };
  }
  const shape = shapes[type];
  const problems: ValueProblem[] = [];
  const value = normalizeRecord(shape.root, raw, null, problems, TOP_LEVEL_EXTRA);
  deriveNormalizedQuery(raw, value, problems);
  checkEventTime(value['occurred_at'], now, limits, problems);
  if (type === 'search_impression' && typeof value['query'] === 'string' && value['query'].trim() === '') {
    problems.push({ path: 'query', reason: 'must not be empty' });
  }
  // The compiled avsc check is fast; the path-collecting walk runs only for values that fail it.
  if (!shape.avro.isValid(value)) {
    const reported = problems.map((p) => p.path);
    // A derived normalized_query is only missing because query is; the query problem says so.
    if (raw['normalized_query'] === undefined) reported.push('normalized_query');
    for (const problem of validate(eventTypes[type], value)) {
      if (!reported.some((path) => problem.path === path || problem.path.startsWith(`${path}.`)))
        problems.push(problem);
    }
  }
  if (problems.length > 0) return { ok: false, type, eventId, errors: problems };
  return { ok: true, type, eventId: value['event_id'] as string, event: value } as unknown as ValidatedEvent;
}

function deriveNormalizedQuery(raw: Record<string, unknown>, value: Record<string, unknown>, problems: ValueProblem[]) {
  if (!('query' in value)) return; // product_change has no query
  const query = value['query'];
  const given = raw['normalized_query'];
  if (typeof query !== 'string') {
    if (given === undefined && query === null) value['normalized_query'] = null;
    return;
  }
  const expected = normalizedQueryOf(query);
  if (given === undefined) value['normalized_query'] = expected;
  else if (typeof given === 'string' && given !== expected) {
    problems.push({
      path: 'normalized_query',
      reason: `differs from normalizeQuery(query) = ${JSON.stringify(expected)}; omit it to have it computed`,
    });
  }
}

/**
 * normalizeQuery (NFKC and six Unicode regex passes) remembered for recent queries: query
 * popularity is Zipf-like, so most events repeat a query seen moments ago, and the normaliser was
 * ~3% of the collector's CPU. Bounded: emptied when full; long queries are not kept.
 */
const NORMALIZED_CACHE_SIZE = 10_000;
const NORMALIZED_CACHE_MAX_LENGTH = 256;
const normalizedQueries = new Map<string, string>();

function normalizedQueryOf(query: string): string {
  let normalized = normalizedQueries.get(query);
  if (normalized === undefined) {
    normalized = normalizeQuery(query);
    if (query.length <= NORMALIZED_CACHE_MAX_LENGTH) {
      if (normalizedQueries.size >= NORMALIZED_CACHE_SIZE) normalizedQueries.clear();
      normalizedQueries.set(query, normalized);
    }
  }
  return normalized;
}

function checkEventTime(occurredAt: unknown, now: number, limits: ValidationLimits, problems: ValueProblem[]) {
  if (typeof occurredAt !== 'number' || !Number.isInteger(occurredAt)) return; // the schema check names it
  if (occurredAt > now + limits.maxFutureMs) {
    problems.push({
      path: 'occurred_at',
      reason: `${new Date(occurredAt).toISOString()} is more than ${formatDuration(limits.maxFutureMs)} in the future`,
    });
  } else if (occurredAt < now - limits.maxPastMs) {
    problems.push({
      path: 'occurred_at',
      reason: `${safeIso(occurredAt)} is more than ${formatDuration(limits.maxPastMs)} in the past`,
    });
  }
}

function safeIso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Schema-driven normalisation, compiled once per event type from the .avsc files.

type ShapeKind = 'record' | 'array' | 'map' | 'nullable' | 'timestamp' | 'string' | 'scalar';

/**
 * One node of a compiled schema. Every node has the same properties (unused ones empty), so that the
 * walk below reads them through one hidden class: this runs for every field of every event.
 */
interface Shape {
  readonly kind: ShapeKind;
  /** record: its fields in schema order, and their names. */
  readonly fields: FieldShape[];
  readonly names: Set<string>;
  /** array items, map values, the non-null branch of a nullable union. */
  readonly inner: Shape | null;
}

interface FieldShape {
  readonly name: string;
  readonly shape: Shape;
  readonly makeDefault: (() => unknown) | undefined;
  readonly rule: ValueRule | undefined;
  readonly isId: boolean;
}

function shapeOf(kind: ShapeKind, inner: Shape | null = null): Shape {
  return { kind, fields: [], names: new Set(), inner };
}

/** A check the schema cannot express; returns the reason when `value` (of the right JS type) is bad. */
type ValueRule = (value: unknown) => string | undefined;

const atLeast =
  (min: number): ValueRule =>
  (v) =>
    typeof v === 'number' && v < min ? `must be at least ${min}` : undefined;

/** Rules by field name, wherever the field occurs (click.position and items[].position alike). */
const FIELD_RULES: Readonly<Record<string, ValueRule>> = {
  position: atLeast(1),
  page: atLeast(1),
  quantity: atLeast(1),
  unit_price_minor: atLeast(0),
  price_minor: atLeast(0),
  review_count: atLeast(0),
  rating: (v) => (typeof v === 'number' && !(v >= 0 && v <= 5) ? 'must be between 0 and 5' : undefined),
  currency: (v) =>
    typeof v === 'string' && !/^[A-Z]{3}$/.test(v) ? 'expected an ISO 4217 code of three capital letters' : undefined,
};

/** The top-level `type` discriminator is part of the wire format, not of the Avro record. */
const TOP_LEVEL_EXTRA: ReadonlySet<string> = new Set(['type']);
const NO_EXTRA: ReadonlySet<string> = new Set();

const SCALARS = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes']);

interface CompiledType {
  readonly root: Shape;
  readonly avro: ReturnType<typeof avroTypeOf>;
}

const shapes = Object.fromEntries(
  eventTypeNames.map((type) => {
    const spec = eventTypes[type];
    const root = compile(rawSchemaOf(spec), new Map());
    if (root.kind !== 'record') throw new Error(`${spec.schemaFile} is not a record schema`);
    return [type, { root, avro: avroTypeOf(spec) }];
  }),
) as Record<EventType, CompiledType>;

function compile(schema: unknown, named: Map<string, Shape>): Shape {
  if (typeof schema === 'string') {
    if (schema === 'string') return shapeOf('string');
    if (SCALARS.has(schema)) return shapeOf('scalar');
    return named.get(schema) ?? shapeOf('scalar');
  }
  if (Array.isArray(schema)) {
    const branches = schema.filter((b) => b !== 'null');
    if (branches.length === 1 && branches.length < schema.length)
      return shapeOf('nullable', compile(branches[0], named));
    return shapeOf('scalar'); // no such union in our schemas; avsc still checks it
  }
  const s = schema as { type: unknown; logicalType?: string; name?: string; fields?: unknown[] };
  if (s.logicalType === 'timestamp-millis') return shapeOf('timestamp');
  switch (s.type) {
    case 'record': {
      const shape = shapeOf('record');
      if (s.name) named.set(s.name, shape);
      for (const f of (s.fields ?? []) as { name: string; type: unknown; default?: unknown }[]) {
        shape.names.add(f.name);
        shape.fields.push({
          name: f.name,
          shape: compile(f.type, named),
          makeDefault: 'default' in f ? defaultMaker(f.default) : undefined,
          rule: FIELD_RULES[f.name],
          isId: ID_FIELDS.has(f.name),
        });
      }
      return shape;
    }
    case 'array':
      return shapeOf('array', compile((schema as { items: unknown }).items, named));
    case 'map':
      return shapeOf('map', compile((schema as { values: unknown }).values, named));
    case 'enum': {
      const shape = shapeOf('scalar');
      if (s.name) named.set(s.name, shape);
      return shape;
    }
    default:
      return compile(s.type, named);
  }
}

function defaultMaker(value: unknown): () => unknown {
  if (value !== null && typeof value === 'object') return () => structuredClone(value);
  return () => value;
}

/**
 * Where a value sits, built only when a problem is reported: the walk passes (container, key)
 * pairs instead of concatenating a path string for every field of every event.
 */
interface Place {
  readonly parent: Place | null;
  readonly key: string | number;
}

function pathOf(parent: Place | null, key: string | number): string {
  const leaf = typeof key === 'string' ? key.slice(0, 64) : String(key);
  return parent === null ? leaf : `${pathOf(parent.parent, parent.key)}.${leaf}`;
}

function normalize(
  shape: Shape,
  value: unknown,
  parent: Place | null,
  key: string | number,
  isId: boolean,
  problems: ValueProblem[],
): unknown {
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') return value;
      const reason = stringProblem(value, isId ? MAX_ID_LENGTH : MAX_TEXT_LENGTH);
      if (reason) problems.push({ path: pathOf(parent, key), reason });
      else if (isId && value.trim() === '') problems.push({ path: pathOf(parent, key), reason: 'must not be empty' });
      return value;
    }
    case 'scalar':
      return value;
    case 'nullable':
      return value === null ? null : normalize(shape.inner!, value, parent, key, isId, problems);
    case 'record':
      return isPlainObject(value) ? normalizeRecord(shape, value, { parent, key }, problems, NO_EXTRA) : value;
    case 'array': {
      if (!Array.isArray(value)) return value;
      if (value.length > MAX_LIST_LENGTH) {
        problems.push({ path: pathOf(parent, key), reason: `at most ${MAX_LIST_LENGTH} entries, got ${value.length}` });
        return value;
      }
      const here: Place = { parent, key };
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) out[i] = normalize(shape.inner!, value[i], here, i, isId, problems);
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) return value;
      const entries = Object.entries(value);
      if (entries.length > MAX_LIST_LENGTH) {
        problems.push({
          path: pathOf(parent, key),
          reason: `at most ${MAX_LIST_LENGTH} entries, got ${entries.length}`,
        });
        return value;
      }
      const here: Place = { parent, key };
      // fromEntries defines own properties, so a "__proto__" key stays a plain key.
      return Object.fromEntries(
        entries.map(([k, v]) => {
          const reason = stringProblem(k, MAX_ID_LENGTH);
          if (reason) problems.push({ path: pathOf(here, k), reason: `key ${reason}` });
          return [k, normalize(shape.inner!, v, here, k, isId, problems)];
        }),
      );
    }
    case 'timestamp': {
      if (typeof value !== 'string') return value;
      const ms = parseIsoDateTime(value);
      if (ms !== undefined) return ms;
      problems.push({
        path: pathOf(parent, key),
        reason: 'expected epoch milliseconds or an ISO-8601 date-time with a zone (Z or ±hh:mm)',
      });
      return value;
    }
  }
}

function normalizeRecord(
  shape: Shape,
  value: Record<string, unknown>,
  place: Place | null,
  problems: ValueProblem[],
  allowedExtra: ReadonlySet<string>,
): Record<string, unknown> {
  for (const key in value) {
    if (!shape.names.has(key) && !allowedExtra.has(key))
      problems.push({ path: pathOf(place, key), reason: 'unknown field' });
  }
  const out: Record<string, unknown> = {};
  const { fields } = shape;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const name = field.name;
    const given = value[name];
    if (given === undefined) {
      if (field.makeDefault) out[name] = field.makeDefault();
      // normalized_query is derived from query when absent (see deriveNormalizedQuery).
      else if (name !== 'normalized_query') problems.push({ path: pathOf(place, name), reason: 'required' });
      continue;
    }
    const normalized = normalize(field.shape, given, place, name, field.isId, problems);
    if (field.rule) {
      const reason = field.rule(normalized);
      if (reason) problems.push({ path: pathOf(place, name), reason });
    }
    out[name] = normalized;
  }
  return out;
}

/** Unicode's Cc category exactly (C0, DEL, C1), as a plain class: faster than \p{Cc} with the u flag. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F-\u009F]/;

/** Why a string cannot be stored as given, or undefined. Length first: no regex over a megabyte. */
export function stringProblem(value: string, maxLength: number): string | undefined {
  if (value.length > maxLength) return `at most ${maxLength} characters, got ${value.length}`;
  if (!value.isWellFormed()) return 'contains an unpaired UTF-16 surrogate';
  const control = CONTROL_CHARACTER.exec(value);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `contains the control character U+${code} at offset ${control.index}`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
