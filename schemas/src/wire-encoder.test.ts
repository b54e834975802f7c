import { avroTypeOf, eventTypes, topics } from './topics.ts';
import { validate } from './codec.ts';
import { describe, expect, it } from 'vitest';
import { WireEncoder } from './wire-encoder.ts';

const click = {
  event_id: 'e-1',
  occurred_at: 1_733_788_889_378,
  impression_id: null,
  request_id: 'r-1',
  query: 'Cordless Drill',
  normalized_query: 'cordless drill',
  user_id: null,
  session_id: 's-1',
  product_id: 'p-1',
  position: 2,
};

/** The Confluent wire format as the registry client builds it: 0, the schema id, the Avro bytes. */
function reference(schemaId: number, avro: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avro]);
}

describe('WireEncoder', () => {
  const type = avroTypeOf(eventTypes.click);

  it('writes the same bytes as the registry client, record after record', () => {
    const encoder = new WireEncoder();
    const first = encoder.encode(type, 42, click);
    const second = encoder.encode(type, 7, { ...click, event_id: 'e-2', position: null });
    expect(first).toEqual(reference(42, type.toBuffer(click)));
    expect(second).toEqual(reference(7, type.toBuffer({ ...click, event_id: 'e-2', position: null })));
    // Each record owns its bytes: the scratch buffer being reused does not change the first one.
    expect(type.fromBuffer(first.subarray(5))).toEqual(click);
  });

  it('write() leaves each record in its own range of a slab, across slab boundaries', () => {
    const encoder = new WireEncoder();
    const ranges: { slab: Buffer; start: number; end: number; id: string }[] = [];
    // ~100 bytes each: several 64 KiB slabs' worth.
    for (let i = 0; i < 2_000; i++) {
      const value = { ...click, event_id: `e-${i}` };
      const start = encoder.write(type, 5, value);
      ranges.push({ slab: encoder.slab, start, end: encoder.end, id: value.event_id });
    }
    expect(new Set(ranges.map((r) => r.slab)).size).toBeGreaterThan(1);
    for (const { slab, start, end, id } of ranges) {
      expect(slab.subarray(start, end)).toEqual(reference(5, type.toBuffer({ ...click, event_id: id })));
    }
  });

  it('gives a record larger than a slab a slab of its own', () => {
    const encoder = new WireEncoder();
    const impressionType = avroTypeOf(eventTypes.search_impression);
    const impression = {
      event_id: 'e-3',
      request_id: null,
      occurred_at: 1_733_788_889_378,
      query: 'q'.repeat(2_000),
      normalized_query: 'q'.repeat(2_000),
      user_id: null,
      session_id: 's-1',
      page: 1,
      device: 'OTHER',
      items: Array.from({ length: 1_000 }, (_, i) => ({
        product_id: `p-${'x'.repeat(100)}-${i}`,
        position: i + 1,
        retrieval_score: null,
      })),
    };
    const record = encoder.encode(impressionType, 3, impression);
    expect(record.length).toBeGreaterThan(64 * 1024);
    expect(record).toEqual(reference(3, impressionType.toBuffer(impression)));
    expect(encoder.encode(type, 3, click)).toEqual(reference(3, type.toBuffer(click)));
  });
});

type Avro = ReturnType<typeof avroTypeOf>;
interface AvroInternals {
  readonly typeName: string;
  readonly fields?: readonly { readonly name: string; readonly type: Avro }[];
  readonly itemsType?: Avro;
  readonly valuesType?: Avro;
  readonly types?: readonly Avro[];
  readonly symbols?: readonly string[];
  readonly size?: number;
}

/** A value of `type` with every optional part present (`full`) or absent (unions at their first branch, empty collections). */
function sample(avro: Avro, full: boolean): unknown {
  const t = avro as unknown as AvroInternals;
  switch (t.typeName) {
    case 'record':
      return Object.fromEntries(t.fields!.map((f) => [f.name, sample(f.type, full)]));
    case 'array':
      return full ? [sample(t.itemsType!, full), sample(t.itemsType!, full)] : [];
    case 'map':
      return full ? { k1: sample(t.valuesType!, full), k2: sample(t.valuesType!, full) } : {};
    case 'union:unwrapped':
    case 'union:wrapped':
      return sample(t.types![full ? t.types!.length - 1 : 0]!, full);
    case 'enum':
      return t.symbols![t.symbols!.length - 1];
    case 'string':
      return 'text é';
    case 'int':
      return 7;
    case 'long':
      return 1_733_788_889_378;
    case 'float':
    case 'double':
      return 0.25;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'bytes':
      return Buffer.from('ab');
    case 'fixed':
      return Buffer.alloc(t.size!);
    default:
      throw new Error(`no sample for ${t.typeName}`);
  }
}

/** Values that are wrong for most types and right for some: every field is tried with each. */
const REPLACEMENTS: readonly unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  'MOBILE',
  true,
  [],
  [1],
  ['x'],
  {},
  { a: 1 },
  Buffer.from('x'),
];

/** Every copy of `value` with one part (a field, an element, a map entry, or the whole) replaced or removed. */
function* mutations(value: unknown, path: readonly string[] = []): Generator<{ path: string; value: unknown }> {
  const here = path.join('.') || '(root)';
  for (const replacement of REPLACEMENTS) yield { path: here, value: replacement };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      for (const m of mutations(value[i], [...path, String(i)])) {
        const copy: unknown[] = [...(value as unknown[])];
        copy[i] = m.value;
        yield { path: m.path, value: copy };
      }
    }
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      for (const m of mutations(record[key], [...path, key])) {
        yield { path: m.path, value: { ...record, [key]: m.value } };
      }
      const { [key]: _removed, ...rest } = record;
      yield { path: [...path, key].join('.'), value: rest };
    }
    for (const replacement of REPLACEMENTS) {
      yield { path: [...path, 'extra'].join('.'), value: { ...record, extra: replacement } };
    }
  }
}

describe('WireEncoder validates as it writes', () => {
  // Each topic's schema, every field of a full and of a minimal value replaced by each of REPLACEMENTS
  // or removed: encode() throws exactly when avsc's isValid() says no, so an invalid value never becomes
  // bytes, and validate() names the field for every refused value.
  for (const spec of Object.values(topics)) {
    it(`throws for exactly the values isValid() refuses: ${spec.id}`, () => {
      const avro = avroTypeOf(spec);
      const encoder = new WireEncoder();
      const disagreements: string[] = [];
      let refused = 0;
      let cases = 0;
      for (const full of [true, false]) {
        const base = sample(avro, full);
        expect(avro.isValid(base)).toBe(true);
        for (const { path, value } of mutations(base)) {
          cases++;
          const valid = avro.isValid(value);
          let bytes: Buffer | undefined;
          try {
            bytes = encoder.encode(avro, 9, value);
          } catch {
            bytes = undefined;
          }
          if (valid) {
            if (bytes === undefined) disagreements.push(`${path}: valid, but encode() threw`);
            else if (!bytes.equals(reference(9, avro.toBuffer(value)))) disagreements.push(`${path}: wrong bytes`);
          } else {
            refused++;
            if (bytes !== undefined) disagreements.push(`${path}: invalid, but encode() wrote it`);
            const problems = validate(spec, value).map((p) => p.path);
            // The problem is reported at the changed field, at a field inside it, or at the record or
            // union holding it.
            const related = (p: string) =>
              p === path || path === '(root)' || p === '(root)' || path.startsWith(`${p}.`) || p.startsWith(`${path}.`);
            if (!problems.some(related)) {
              disagreements.push(`${path}: validate() names ${JSON.stringify(problems)}`);
            }
          }
        }
      }
      expect(disagreements).toEqual([]);
      expect(refused).toBeGreaterThan(cases / 2);
    });
  }
});
