import { z } from 'zod';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import defaultPreset from './presets/default.json' with { type: 'json' };
import icecatPreset from './presets/icecat.json' with { type: 'json' };

/**
 * A mapping says, per field of the catalogue's Product, which source column(s) to read and how to
 * convert them. Mappings are JSON files validated here; an invalid one fails before any row is
 * read, with every offending key named (`price_minor.unit: ...`). Unknown keys are errors too, so
 * that a typo ("colum") does not silently leave a field unmapped.
 *
 * `column` takes one name or a list of alternatives: the first with a non-blank value is used.
 * Dotted names reach into nested JSON/Parquet values ("offer.price") when no column has the
 * dotted name itself. `onInvalid` says what a value that is present but cannot be converted
 * does: "reject" the row (the default: the report names the field and rows, and nothing wrong
 * reaches the topic) or "omit" the field (loaded without it, counted as a warning).
 */

const columnList = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: (issue) =>
      issue.input === undefined
        ? 'required: a column name or a list of them'
        : 'expected a column name or a list of them',
  })
  .transform((c) => (typeof c === 'string' ? [c] : c));

const onInvalid = z.enum(['reject', 'omit']).default('reject');
const instantFormat = z.enum(['auto', 'iso', 'epoch-millis', 'epoch-seconds']).default('auto');
const currencyCode = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'expected a three-letter ISO 4217 code')
  .transform((c) => c.toUpperCase());
const attributeType = z.enum(['text', 'number', 'boolean']);

const instantField = z.strictObject({ column: columnList, format: instantFormat, onInvalid });

export const mappingSchema = z.strictObject({
  /** Editors' JSON-schema hint and a human description; ignored by the loader. */
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** The decimal separator of numbers written as text; the other one may group thousands. */
  decimalSeparator: z.enum(['.', ',']).default('.'),
  /** Text holds line breaks and tabs written as the two characters `\n`, `\t` (a doubly escaped export): read them as spaces. */
  literalEscapes: z.boolean().default(false),
  product_id: z.strictObject({
    column: columnList,
    maxLength: z.number().int().positive().max(1_000).default(256),
  }),
  title: z.strictObject({
    column: columnList,
    html: z.boolean().default(false),
    maxLength: z.number().int().positive().default(500),
  }),
  brand: z
    .strictObject({
      column: columnList,
      html: z.boolean().default(false),
      maxLength: z.number().int().positive().default(200),
      onInvalid,
    })
    .optional(),
  /** Either one column holding the path ("A > B > C", a list, a list literal) or `levels`, one column per level. */
  category_path: z
    .strictObject({
      column: columnList.optional(),
      separator: z.string().min(1).default('>'),
      levels: z.array(z.string().min(1)).min(1).optional(),
      html: z.boolean().default(false),
      maxDepth: z.number().int().positive().default(10),
      maxLength: z.number().int().positive().default(200),
      onInvalid,
    })
    .superRefine((v, ctx) => {
      if ((v.column === undefined) === (v.levels === undefined))
        ctx.addIssue({ code: 'custom', message: 'give exactly one of "column" and "levels"', path: [] });
    })
    .optional(),
  /** `unit`: "major" for 12.99, "minor" for 1299 (converted with the currency's ISO 4217 exponent). */
  price_minor: z
    .strictObject({
      column: columnList,
      unit: z.enum(['major', 'minor']),
      onInvalid,
    })
    .optional(),
  /** A column, a constant `value`, or both (the value when the column is blank). */
  currency: z
    .strictObject({
      column: columnList.optional(),
      value: currencyCode.optional(),
      onInvalid,
    })
    .superRefine((v, ctx) => {
      if (v.column === undefined && v.value === undefined)
        ctx.addIssue({ code: 'custom', message: 'give "column", "value" or both', path: [] });
    })
    .optional(),
  /** `scale`: the best rating of the source (5 for stars, 10, 100); converted to 0–5. */
  rating: z
    .strictObject({
      column: columnList,
      scale: z.number().positive().default(5),
      onInvalid,
    })
    .optional(),
  review_count: z.strictObject({ column: columnList, onInvalid }).optional(),
  /** Booleans, availability words ("in stock"), or a stock quantity (available when above 0). */
  available: z
    .strictObject({
      column: columnList,
      trueValues: z.array(z.string().min(1)).optional(),
      falseValues: z.array(z.string().min(1)).optional(),
      whenMissing: z.boolean().default(true),
      onInvalid,
    })
    .optional(),
  released_at: instantField.optional(),
  /** When the change happened at the source; the load's start time when unmapped or blank. */
  occurred_at: instantField.optional(),
  /** Rows whose `column` holds one of `values` (any case) are deletions of the product. */
  delete: z
    .strictObject({
      column: columnList,
      values: z.array(z.string().min(1)).min(1),
    })
    .optional(),
  attributes: z
    .strictObject({
      /** Every column starting with a prefix becomes an attribute named by the rest of the column name. */
      prefixes: z.array(z.strictObject({ prefix: z.string().min(1), type: attributeType.default('text') })).default([]),
      /** Named attributes from given columns. */
      columns: z
        .record(
          z.string().min(1),
          z.strictObject({ column: columnList, type: attributeType.default('text'), html: z.boolean().optional() }),
        )
        .default({}),
      html: z.boolean().default(false),
      /** Longer text values are cut (with a warning); 10k characters keeps every Icecat value whole. */
      maxLength: z.number().int().positive().default(10_000),
      maxCount: z.number().int().positive().default(500),
    })
    .optional(),
});

export type Mapping = z.output<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;
export type AttributeType = z.output<typeof attributeType>;

export const presets = {
  default: defaultPreset,
  icecat: icecatPreset,
} as const satisfies Record<string, unknown>;
export type PresetName = keyof typeof presets;

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(presets, name);
}

/**
 * Validates a mapping, given as the parsed JSON of a file, optionally over a preset whose
 * top-level keys it replaces (a file that only says `{"currency": {"value": "EUR"}}` completes
 * the preset). Throws PRD_INPUT_INVALID naming every offending key and the mapping's source.
 */
export function parseMapping(json: unknown, source: string, base?: PresetName): Mapping {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `mapping ${source}: expected a JSON object`);
  const merged = base === undefined ? json : { ...presets[base], ...json };
  const result = mappingSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(mapping)'}: ${issue.message}`);
  throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `mapping ${source} is invalid:\n  ${lines.join('\n  ')}`);
}

export function presetMapping(name: PresetName): Mapping {
  return parseMapping(presets[name], `preset ${name}`);
}

/** The source columns a mapping reads, per target field: the file's header is checked against them. */
export function mappedColumns(mapping: Mapping): { field: string; columns: string[]; required: boolean }[] {
  const out: { field: string; columns: string[]; required: boolean }[] = [
    { field: 'product_id', columns: mapping.product_id.column, required: true },
    { field: 'title', columns: mapping.title.column, required: true },
  ];
  const optional = (field: string, columns: string[] | undefined) => {
    if (columns) out.push({ field, columns, required: false });
  };
  optional('brand', mapping.brand?.column);
  optional('category_path', mapping.category_path?.column);
  for (const level of mapping.category_path?.levels ?? []) optional('category_path', [level]);
  optional('price_minor', mapping.price_minor?.column);
  optional('currency', mapping.currency?.column);
  optional('rating', mapping.rating?.column);
  optional('review_count', mapping.review_count?.column);
  optional('available', mapping.available?.column);
  optional('released_at', mapping.released_at?.column);
  optional('occurred_at', mapping.occurred_at?.column);
  optional('delete', mapping.delete?.column);
  for (const [name, spec] of Object.entries(mapping.attributes?.columns ?? {}))
    optional(`attributes.${name}`, spec.column);
  return out;
}
