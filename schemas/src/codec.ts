import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { SchemaError, SchemaErrorCode } from './errors.ts';
import { WireEncoder } from './wire-encoder.ts';
import type { BuiltValue } from './double-arrays.ts';
import { avroTypeOf, rawSchemaOf, topics, type TopicSpec, type TopicSpecBase } from './topics.ts';

/**
 * The typed codec over the schema-registry client: `any` stops here. Values are written with the
 * schema registered for the topic's subject (Confluent wire format) and read with the schema this
 * code was built with as the reader schema, so older and newer writers both decode to the current
 * type (Avro schema resolution; the registry keeps subjects BACKWARD compatible).
 */
export class EventCodec {
  readonly #registry: SchemaRegistry;
  readonly #writerIds: Map<string, number>;
  /** Schema ids known to belong to each subject: anything else on that topic is misrouted. */
  readonly #subjectIds = new Map<string, Set<number>>();
  /** Per (subject, writer schema id): null when the writer is our own schema, else a resolver. */
  readonly #resolvers = new Map<string, avro.Resolver | null>();
  readonly #encoder = new WireEncoder();

  private constructor(registry: SchemaRegistry, writerIds: Map<string, number>) {
    this.#registry = registry;
    this.#writerIds = writerIds;
    for (const [subject, id] of writerIds) this.#subjectIds.set(subject, new Set([id]));
  }

  /** Looks up the registered schema id of every topic's subject; fails if one is not provisioned. */
  static async connect(
    registry: SchemaRegistry,
    specs: readonly TopicSpecBase[] = Object.values(topics),
  ): Promise<EventCodec> {
    const ids = new Map<string, number>();
    for (const spec of specs) {
      try {
        ids.set(
          spec.subject,
          await registry.getRegistryIdBySchema(spec.subject, {
            type: SchemaType.AVRO,
            schema: JSON.stringify(rawSchemaOf(spec)),
          }),
        );
      } catch (cause) {
        throw registryError(cause, spec.subject);
      }
    }
    return new EventCodec(registry, ids);
  }

  writerId(spec: TopicSpecBase): number {
    const id = this.#writerIds.get(spec.subject);
    if (id === undefined)
      throw new SchemaError(
        SchemaErrorCode.NOT_PROVISIONED,
        `no schema id for ${spec.subject}; connect the codec with this topic`,
      );
    return id;
  }

  /**
   * Validates and encodes; an invalid value throws SCH_INVALID_VALUE naming every bad field path.
   * One pass: avsc's writers check each value as they write it (see WireEncoder), so the separate
   * validation walk runs only for a value that was refused, to name its fields.
   */
  async encode<V>(spec: TopicSpec<V>, value: V): Promise<Buffer> {
    return this.encodeSync(spec, value);
  }

  /**
   * encode() for a value the caller built itself from typed data (the ranker's feature log): arrays of
   * doubles may be Float64Arrays (BuiltValue), written in one copy each.
   */
  async encodeBuilt<V>(spec: TopicSpec<V>, value: BuiltValue<V>): Promise<Buffer> {
    return this.encodeSync(spec, value);
  }

  /** encode() without the promise, for callers on a hot path (the storefront SDK). */
  encodeSync<V>(spec: TopicSpec<V>, value: V | BuiltValue<V>): Buffer {
    const type = avroTypeOf(spec);
    const writerId = this.writerId(spec);
    try {
      // The id is the registry's id of exactly this schema (connect() looked it up), so our compiled
      // type writes the Confluent wire format without a call to the client.
      return this.#encoder.encode(type, writerId, value);
    } catch (cause) {
      throw invalidValue(spec, value, cause);
    }
  }

  /** Decodes a record of `spec`'s topic; typed errors for each way a record can be poison. */
  async decode<V>(spec: TopicSpec<V>, buffer: Buffer): Promise<V> {
    if (buffer.length < 5 || buffer[0] !== 0) {
      throw new SchemaError(
        SchemaErrorCode.BAD_MAGIC_BYTE,
        `record of ${spec.name} is not in the Confluent wire format (magic byte ${buffer[0] ?? 'missing'})`,
      );
    }
    const id = buffer.readInt32BE(1);
    const resolverKey = `${spec.subject}\u0000${id}`;
    let resolver = this.#resolvers.get(resolverKey);
    if (resolver === undefined) {
      resolver = await this.#resolverFor(spec, id);
      this.#resolvers.set(resolverKey, resolver);
    }
    try {
      return avroTypeOf(spec).fromBuffer(buffer.subarray(5), resolver ?? undefined) as V;
    } catch (cause) {
      throw new SchemaError(
        SchemaErrorCode.CORRUPT_PAYLOAD,
        `record of ${spec.name} with schema id ${id} cannot be decoded: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  /**
   * How to read records written with schema `id` as this code's type: nothing to resolve for our own
   * schema; an Avro resolver (schema resolution rules) for other versions of the subject. Built once
   * per (subject, id): compiling types per record would dominate decoding.
   */
  async #resolverFor(spec: TopicSpecBase, id: number): Promise<avro.Resolver | null> {
    const writer = await this.#checkSubject(spec, id);
    if (id === this.#writerIds.get(spec.subject)) return null;
    return avroTypeOf(spec).createResolver(avro.Type.forSchema(writer as avro.Schema));
  }

  /** Fetches the writer schema of `id` and checks that it is the topic's record type. */
  async #checkSubject(spec: TopicSpecBase, id: number): Promise<unknown> {
    const known = this.#subjectIds.get(spec.subject) ?? new Set<number>();
    let writer: unknown;
    try {
      writer = await this.#registry.getSchema(id);
    } catch (cause) {
      const error = registryError(cause, spec.subject);
      if (error.code === SchemaErrorCode.REGISTRY_UNAVAILABLE) throw error;
      throw new SchemaError(
        SchemaErrorCode.UNKNOWN_SCHEMA_ID,
        `record of ${spec.name} names schema id ${id}, which the registry does not know`,
        { cause },
      );
    }
    // A newer writer version of the same record is fine (the reader schema resolves it); a
    // different record type on this topic is a routing error.
    const expected = fullName(rawSchemaOf(spec));
    const actual = fullName(writer);
    if (actual !== expected) {
      throw new SchemaError(
        SchemaErrorCode.WRONG_SUBJECT,
        `record of ${spec.name} has schema id ${id} (${actual}), not a ${expected}`,
      );
    }
    known.add(id);
    this.#subjectIds.set(spec.subject, known);
    // The client returns an avsc Type for Avro; its schema() is the plain JSON form.
    const asType = writer as { schema?: () => unknown };
    return typeof asType.schema === 'function' ? asType.schema() : writer;
  }
}

function fullName(schema: unknown): string {
  const { name = '', namespace = '' } = (schema ?? {}) as { name?: string; namespace?: string };
  return name.includes('.') ? name : `${namespace}.${name}`;
}

/** SCH_INVALID_VALUE for a value avsc refused to write, naming every field path at which it fails the schema. */
export function invalidValue(spec: TopicSpecBase, value: unknown, cause?: unknown): SchemaError {
  const problems = validate(spec, value);
  const reasons =
    problems.map((p) => `${p.path}: ${p.reason}`).join('; ') || String((cause as Error | undefined)?.message);
  return new SchemaError(SchemaErrorCode.INVALID_VALUE, `invalid ${spec.id} value: ${reasons}`, { cause });
}

export interface ValueProblem {
  readonly path: string;
  readonly reason: string;
}

/** Every field path at which `value` fails the topic's schema, with the expected type. */
export function validate(spec: Pick<TopicSpecBase, 'schemaFile'>, value: unknown): ValueProblem[] {
  const problems: ValueProblem[] = [];
  avroTypeOf(spec).isValid(value, {
    errorHook: (path, _value, type) => {
      problems.push({ path: path.join('.') || '(root)', reason: `expected ${describeType(type)}` });
    },
  });
  return problems;
}

function describeType(type: unknown): string {
  const t = type as { typeName?: string; types?: { typeName?: string }[]; symbols?: string[] };
  if (t.typeName === 'union:unwrapped' || t.typeName === 'union:wrapped')
    return (t.types ?? []).map((x) => x.typeName).join(' or ');
  if (t.typeName === 'enum') return `one of ${(t.symbols ?? []).join(', ')}`;
  if (t.typeName === 'long' || t.typeName === 'int') return `an integer (${t.typeName})`;
  return t.typeName ?? 'a valid value';
}

export function registryError(cause: unknown, subject: string): SchemaError {
  const status = (cause as { status?: number }).status;
  if (status === 404) {
    return new SchemaError(
      SchemaErrorCode.NOT_PROVISIONED,
      `${subject} has no registered schema matching this code: run npm run provision`,
      { cause },
    );
  }
  if (status === 409 || status === 422) {
    return new SchemaError(
      SchemaErrorCode.REGISTRY_REFUSED,
      `the registry refused the schema of ${subject}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return new SchemaError(
    SchemaErrorCode.REGISTRY_UNAVAILABLE,
    `schema registry failed for ${subject}: ${(cause as Error).message}`,
    { cause, retriable: true },
  );
}
