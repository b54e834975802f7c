import { rawSchemaOf, topics } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { StreamProcessorErrorCode } from '../consumer/errors.ts';
import { offlineTableOf, type AvroSchema, type OfflineRow } from './avro-to-parquet.ts';

const tableOf = (spec: { schemaFile: string }) => offlineTableOf(rawSchemaOf(spec) as AvroSchema);

function row(value: Record<string, unknown>): OfflineRow {
  return { value, partition: 2, offset: 41, timestamp: 1_750_000_000_123 };
}

describe('offlineTableOf', () => {
  it('maps the impression schema, with items as a LIST of STRUCT, and appends the Kafka coordinates', () => {
    const { schema, columns } = tableOf(topics.impressions);
    expect(columns.map((c) => c.name)).toEqual([
      'event_id',
      'request_id',
      'occurred_at',
      'query',
      'normalized_query',
      'user_id',
      'session_id',
      'page',
      'device',
      'items',
      'kafka_partition',
      'kafka_offset',
      'kafka_timestamp',
    ]);
    expect(schema).toEqual([
      { name: 'root', num_children: 13 },
      { name: 'event_id', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'request_id', ...utf8, repetition_type: 'OPTIONAL' },
      { name: 'occurred_at', ...timestampMillis, repetition_type: 'REQUIRED' },
      { name: 'query', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'normalized_query', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'user_id', ...utf8, repetition_type: 'OPTIONAL' },
      { name: 'session_id', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'page', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'device', ...utf8, repetition_type: 'REQUIRED' },
      {
        name: 'items',
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
        num_children: 1,
        repetition_type: 'REQUIRED',
      },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', num_children: 3, repetition_type: 'REQUIRED' },
      { name: 'product_id', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'position', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'retrieval_score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'kafka_partition', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'kafka_timestamp', ...timestampMillis, repetition_type: 'REQUIRED' },
    ]);
  });

  it('reads rows as the writer takes them: INT64 as bigint, nested values as they are', () => {
    const { columns } = tableOf(topics.impressions);
    const items = [{ product_id: 'p-1', position: 1, retrieval_score: null }];
    const value = { event_id: 'e', occurred_at: 1_750_000_000_000, user_id: null, items };
    const read = Object.fromEntries(columns.map((c) => [c.name, c.read(row(value))]));
    expect(read['occurred_at']).toBe(1_750_000_000_000n);
    expect(read['user_id']).toBeNull();
    expect(read['items']).toBe(items);
    expect(read['kafka_partition']).toBe(2);
    expect(read['kafka_offset']).toBe(41n);
    expect(read['kafka_timestamp']).toBe(1_750_000_000_123n);
  });

  it('maps the catalogue: an optional product STRUCT holding a LIST, a MAP, and optional longs', () => {
    const { schema, columns } = tableOf(topics.catalog);
    const product = schema.findIndex((e) => e.name === 'product');
    expect(schema[product]).toEqual({ name: 'product', num_children: 10, repetition_type: 'OPTIONAL' });
    expect(schema.find((e) => e.name === 'price_minor')).toEqual({
      name: 'price_minor',
      type: 'INT64',
      repetition_type: 'OPTIONAL',
    });
    const attributes = schema.findIndex((e) => e.name === 'attributes');
    expect(schema.slice(attributes, attributes + 4)).toEqual([
      {
        name: 'attributes',
        converted_type: 'MAP',
        logical_type: { type: 'MAP' },
        num_children: 1,
        repetition_type: 'REQUIRED',
      },
      { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
      { name: 'key', ...utf8, repetition_type: 'REQUIRED' },
      { name: 'value', ...utf8, repetition_type: 'REQUIRED' },
    ]);

    const read = columns.find((c) => c.name === 'product')!.read;
    const upsert = {
      title: 'Drill',
      brand: null,
      category_path: ['Tools'],
      price_minor: 12_999,
      currency: 'EUR',
      rating: null,
      review_count: 3,
      available: true,
      released_at: null,
      attributes: { voltage: '18' },
    };
    expect(read(row({ product: upsert }))).toEqual({ ...upsert, price_minor: 12_999n });
    expect(read(row({ product: null }))).toBeNull();
  });

  it('refuses a union of two non-null types, naming the field', () => {
    const schema = { type: 'record', name: 'R', fields: [{ name: 'either', type: ['null', 'string', 'long'] }] };
    expect(() => offlineTableOf(schema)).toThrow(
      expect.objectContaining({ code: StreamProcessorErrorCode.UNSUPPORTED_SCHEMA }),
    );
    expect(() => offlineTableOf(schema)).toThrow(/field either/);
  });

  it('refuses a field that would collide with a partition key or a Kafka column', () => {
    for (const name of ['date', 'hour', 'topic', 'kafka_offset']) {
      const schema = { type: 'record', name: 'R', fields: [{ name, type: 'string' }] };
      expect(() => offlineTableOf(schema)).toThrow(new RegExp(`field ${name} collides`));
    }
  });

  it('resolves references to named types defined earlier', () => {
    const schema = {
      type: 'record',
      name: 'R',
      namespace: 'x',
      fields: [
        { name: 'a', type: { type: 'record', name: 'Point', fields: [{ name: 'v', type: 'long' }] } },
        { name: 'b', type: ['null', 'Point'] },
      ],
    };
    const { schema: elements, columns } = offlineTableOf(schema);
    expect(elements.filter((e) => e.name === 'v')).toHaveLength(2);
    expect(columns[1]!.read(row({ b: { v: 7 } }))).toEqual({ v: 7n });
  });
});

const utf8 = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
const timestampMillis = {
  type: 'INT64',
  converted_type: 'TIMESTAMP_MILLIS',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
} as const;
