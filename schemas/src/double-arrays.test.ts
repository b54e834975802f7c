import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroTypeHook } from './double-arrays.ts';
import { WireEncoder } from './wire-encoder.ts';

const schema: avro.Schema = {
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'values', type: { type: 'array', items: 'double' } },
    { name: 'counts', type: { type: 'array', items: 'long' } },
  ],
};
const plain = avro.Type.forSchema(schema);
const hooked = avro.Type.forSchema(schema, { typeHook: avroTypeHook });
const doubles = [0, -0, 1.5, -2.25e-300, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_VALUE, 42];

describe('avroTypeHook: arrays of doubles from a Float64Array', () => {
  it('writes exactly the bytes avsc writes for the same number[], empty arrays and views included', () => {
    for (const values of [doubles, [], [7]]) {
      const backing = new Float64Array(values.length + 3);
      backing.set(values, 2);
      const view = backing.subarray(2, 2 + values.length);
      const expected = plain.toBuffer({ id: 'a', values, counts: [1, 2] });
      expect(hooked.toBuffer({ id: 'a', values: view, counts: [1, 2] })).toEqual(expected);
      expect(hooked.toBuffer({ id: 'a', values, counts: [1, 2] })).toEqual(expected);
    }
  });

  it('reads back number[] with the exact values, NaN and -0 included', () => {
    const decoded = hooked.fromBuffer(hooked.toBuffer({ id: 'a', values: Float64Array.from(doubles), counts: [] })) as {
      values: number[];
    };
    expect(Array.isArray(decoded.values)).toBe(true);
    expect(decoded.values).toEqual(doubles);
    expect(Object.is(decoded.values[1], -0)).toBe(true);
  });

  it('grows the encoder when the block does not fit, like avsc', () => {
    const values = Float64Array.from({ length: 20_000 }, (_, i) => i / 3);
    const encoded = new WireEncoder().encode(hooked, 7, { id: 'big', values, counts: [] });
    expect(encoded.subarray(5)).toEqual(plain.toBuffer({ id: 'big', values: Array.from(values), counts: [] }));
  });

  it('validates a Float64Array as an array of doubles, and refuses one for an array of longs', () => {
    expect(hooked.isValid({ id: 'a', values: Float64Array.from(doubles), counts: [] })).toBe(true);
    expect(hooked.isValid({ id: 'a', values: ['x'], counts: [] })).toBe(false);
    expect(() => hooked.toBuffer({ id: 'a', values: [], counts: new Float64Array(2) })).toThrow();
  });
});
