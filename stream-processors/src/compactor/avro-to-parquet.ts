import type { SchemaElement } from 'hyparquet-writer';
import { StreamProcessorError, StreamProcessorErrorCode } from '../consumer/errors.ts';

/**
 * The Parquet schema of a topic's offline table, derived from the topic's Avro value schema (the
 * source of truth), plus the Kafka coordinates of each row.
 *
 * Mapping, chosen for what DuckDB and pyarrow read natively:
 *  - ["null", T] → OPTIONAL T; every other field REQUIRED. Other unions are refused at boot.
 *  - string → STRING; enum → STRING (the ENUM annotation reads as binary in some readers, and the
 *    symbols are in the Avro schema kept in the file's metadata); bytes → BYTE_ARRAY; fixed →
 *    FIXED_LEN_BYTE_ARRAY.
 *  - int → INT32 (date → DATE), long → INT64, timestamp-millis/micros → TIMESTAMP(UTC), float,
 *    double, boolean as themselves.
 *  - record → group (a STRUCT in DuckDB); array → the three-level LIST; map → MAP with string keys.
 *
 * Nested arrays such as SearchImpression.items stay a LIST of STRUCT in the impression row rather
 * than a JSON column or a separate exploded table: DuckDB reads `items` as STRUCT(...)[] and
 * `UNNEST(items)` explodes it with the columns typed and stored columnar (product_id dictionary
 * encoded), and one file per offset range keeps the exactly-once bookkeeping to one table.
 */

/** Avro's JSON schema form (the .avsc content), as far as this mapping reads it. */
export type AvroSchema = string | AvroSchema[] | { readonly type: AvroSchema; readonly [key: string]: unknown };

interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
}

/** One top-level column: its name and how to read its value off a row. */
export interface TableColumn<Row> {
  readonly name: string;
  readonly read: (row: Row) => unknown;
}

export interface OfflineTable<Row> {
  /** Flattened in pre-order with the root first, as Parquet's FileMetaData holds it. */
  readonly schema: SchemaElement[];
  readonly columns: TableColumn<Row>[];
}

/** A decoded event and where it sat in Kafka. */
export interface OfflineRow {
  readonly value: Readonly<Record<string, unknown>>;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/** Columns added to every table so that each row can be traced back to its record, and deduplicated by it. */
export const KafkaColumn = {
  PARTITION: 'kafka_partition',
  OFFSET: 'kafka_offset',
  TIMESTAMP: 'kafka_timestamp',
} as const;

/** Hive partition keys of the store layout: readers add them as columns, so a field may not use them. */
export const PARTITION_KEYS = ['topic', 'date', 'hour'] as const;

type Converter = (value: unknown) => unknown;

interface Mapped {
  readonly elements: SchemaElement[];
  /** Absent when the decoded Avro value is already what the writer takes. */
  readonly convert?: Converter;
}

const toBigInt: Converter = (v) => (typeof v === 'bigint' ? v : BigInt(v as number));

export function offlineTableOf(record: AvroSchema): OfflineTable<OfflineRow> {
  const names = new Map<string, AvroSchema>();
  const root = resolve(record, names, undefined);
  if (typeof root !== 'object' || Array.isArray(root) || root.type !== 'record') {
    throw unsupported(`the value schema must be a record, got ${JSON.stringify(record).slice(0, 80)}`);
  }
  const fields = root['fields'] as readonly AvroField[];
  const reserved = new Set<string>([...Object.values(KafkaColumn), ...PARTITION_KEYS]);
  const schema: SchemaElement[] = [{ name: 'root', num_children: fields.length + 3 }];
  const columns: TableColumn<OfflineRow>[] = [];
  for (const field of fields) {
    if (reserved.has(field.name)) throw unsupported(`field ${field.name} collides with a column the store adds`);
    const mapped = mapField(field.name, field.type, names, namespaceOf(root, undefined));
    schema.push(...mapped.elements);
    const { name } = field;
    const convert = mapped.convert;
    columns.push({ name, read: convert ? (row) => convert(row.value[name]) : (row) => row.value[name] });
  }
  schema.push(
    { name: KafkaColumn.PARTITION, type: 'INT32', repetition_type: 'REQUIRED' },
    { name: KafkaColumn.OFFSET, type: 'INT64', repetition_type: 'REQUIRED' },
    { ...timestampElement(KafkaColumn.TIMESTAMP, 'MILLIS'), repetition_type: 'REQUIRED' },
  );
  columns.push(
    { name: KafkaColumn.PARTITION, read: (row) => row.partition },
    { name: KafkaColumn.OFFSET, read: (row) => BigInt(row.offset) },
    { name: KafkaColumn.TIMESTAMP, read: (row) => BigInt(row.timestamp) },
  );
  return { schema, columns };
}

function mapField(
  name: string,
  type: AvroSchema,
  names: Map<string, AvroSchema>,
  namespace: string | undefined,
): Mapped {
  const branches = Array.isArray(type) ? type : [type];
  const nonNull = branches.filter((b) => b !== 'null');
  if (nonNull.length !== 1 || branches.length > 2) {
    throw unsupported(`field ${name}: only [null, T] unions map to Parquet, got ${JSON.stringify(type).slice(0, 120)}`);
  }
  const optional = branches.length === 2;
  const inner = mapType(name, nonNull[0] as AvroSchema, names, namespace);
  const [head, ...rest] = inner.elements as [SchemaElement, ...SchemaElement[]];
  const elements = [{ ...head, repetition_type: optional ? 'OPTIONAL' : 'REQUIRED' } as SchemaElement, ...rest];
  const convert = inner.convert;
  if (!convert) return { elements };
  return { elements, convert: optional ? (v) => (v === null || v === undefined ? null : convert(v)) : convert };
}

function mapType(
  name: string,
  type: AvroSchema,
  names: Map<string, AvroSchema>,
  namespace: string | undefined,
): Mapped {
  const schema = resolve(type, names, namespace);
  if (typeof schema === 'string') return mapPrimitive(name, schema, undefined);
  if (Array.isArray(schema)) return mapField(name, schema, names, namespace);
  const kind = schema.type;
  if (typeof kind !== 'string') return mapType(name, kind, names, namespace);
  switch (kind) {
    case 'record': {
      const fields = schema['fields'] as readonly AvroField[];
      const ns = namespaceOf(schema, namespace);
      const children = fields.map((f) => ({ name: f.name, mapped: mapField(f.name, f.type, names, ns) }));
      const elements: SchemaElement[] = [{ name, num_children: fields.length }];
      for (const child of children) elements.push(...child.mapped.elements);
      const converting = children.filter((c) => c.mapped.convert);
      if (converting.length === 0) return { elements };
      return {
        elements,
        convert: (v) => {
          const source = v as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const child of children) {
            const value = source[child.name];
            out[child.name] = child.mapped.convert ? child.mapped.convert(value) : value;
          }
          return out;
        },
      };
    }
    case 'enum':
      return { elements: [stringElement(name)] };
    case 'fixed':
      return { elements: [{ name, type: 'FIXED_LEN_BYTE_ARRAY', type_length: schema['size'] as number }] };
    case 'array': {
      const item = mapField('element', schema['items'] as AvroSchema, names, namespace);
      const elements: SchemaElement[] = [
        { name, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...item.elements,
      ];
      const convert = item.convert;
      return convert ? { elements, convert: (v) => (v as unknown[]).map(convert) } : { elements };
    }
    case 'map': {
      const value = mapField('value', schema['values'] as AvroSchema, names, namespace);
      const elements: SchemaElement[] = [
        { name, converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { ...stringElement('key'), repetition_type: 'REQUIRED' },
        ...value.elements,
      ];
      const convert = value.convert;
      if (!convert) return { elements };
      return {
        elements,
        convert: (v) => Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, value: convert(x) })),
      };
    }
    default:
      return mapPrimitive(name, kind, schema['logicalType'] as string | undefined);
  }
}

function mapPrimitive(name: string, type: string, logicalType: string | undefined): Mapped {
  switch (type) {
    case 'boolean':
      return { elements: [{ name, type: 'BOOLEAN' }] };
    case 'int':
      if (logicalType === 'date') {
        return { elements: [{ name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }] };
      }
      return { elements: [{ name, type: 'INT32' }] };
    case 'long':
      if (logicalType === 'timestamp-millis')
        return { elements: [timestampElement(name, 'MILLIS')], convert: toBigInt };
      if (logicalType === 'timestamp-micros')
        return { elements: [timestampElement(name, 'MICROS')], convert: toBigInt };
      return { elements: [{ name, type: 'INT64' }], convert: toBigInt };
    case 'float':
      return { elements: [{ name, type: 'FLOAT' }] };
    case 'double':
      return { elements: [{ name, type: 'DOUBLE' }] };
    case 'bytes':
      return { elements: [{ name, type: 'BYTE_ARRAY' }] };
    case 'string':
      return { elements: [stringElement(name)] };
    default:
      throw unsupported(`field ${name}: Avro type ${type} has no Parquet mapping`);
  }
}

function stringElement(name: string): SchemaElement {
  return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
}

function timestampElement(name: string, unit: 'MILLIS' | 'MICROS'): SchemaElement {
  return {
    name,
    type: 'INT64',
    converted_type: unit === 'MILLIS' ? 'TIMESTAMP_MILLIS' : 'TIMESTAMP_MICROS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit },
  };
}

/** Registers named types as they are defined and looks up references to them. */
function resolve(type: AvroSchema, names: Map<string, AvroSchema>, namespace: string | undefined): AvroSchema {
  if (typeof type === 'string') {
    const named = names.get(type) ?? (namespace ? names.get(`${namespace}.${type}`) : undefined);
    return named ?? type;
  }
  if (!Array.isArray(type) && typeof type['name'] === 'string') {
    const name = type['name'];
    const ns = namespaceOf(type, namespace);
    names.set(name.includes('.') || !ns ? name : `${ns}.${name}`, type);
    names.set(name, type);
  }
  return type;
}

function namespaceOf(schema: AvroSchema, inherited: string | undefined): string | undefined {
  if (typeof schema !== 'object' || Array.isArray(schema)) return inherited;
  const ns = schema['namespace'];
  return typeof ns === 'string' ? ns : inherited;
}

function unsupported(message: string): StreamProcessorError {
  return new StreamProcessorError(StreamProcessorErrorCode.UNSUPPORTED_SCHEMA, message);
}
