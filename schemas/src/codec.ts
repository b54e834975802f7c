import type { DecodeOptions, SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { SchemaError, SchemaErrorCode } from './errors.ts';
import { avroTypeOf, rawSchemaOf, topics, type TopicSpec, type TopicSpecBase } from './topics.ts';

/**
 * The typed codec over the schema-registry client: `any` stops here. Values are written with the
 * schema registered for the topic's subject (Confluent wire format) and read with the schema this
 * code was built with as the reader schema, so older and newer writers both decode to the current
 * type (Avro schema resolution; the registry keeps subjects BACKWARD compatible).
 */
type ReaderSchema = NonNullable<NonNullable<DecodeOptions[SchemaType.AVRO]>['readerSchema']>;

export class EventCodec {
  readonly #registry: SchemaRegistry;
  readonly #writerIds: Map<string, number>;
  /** Schema ids known to belong to each subject: anything else on that topic is misrouted. */
  readonly #subjectIds = new Map<string, Set<number>>();

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

  /** Validates and encodes; an invalid value throws SCH_INVALID_VALUE naming every bad field path. */
  async encode<V>(spec: TopicSpec<V>, value: V): Promise<Buffer> {
    const problems = validate(spec, value);
    if (problems.length > 0) {
      throw new SchemaError(
        SchemaErrorCode.INVALID_VALUE,
        `invalid ${spec.id} value: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
      );
    }
    return this.#registry.encode(this.writerId(spec), value);
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
    await this.#checkSubject(spec, id);
    try {
      return (await this.#registry.decode(buffer, {
        [SchemaType.AVRO]: { readerSchema: rawSchemaOf(spec) as ReaderSchema },
      })) as V;
    } catch (cause) {
      throw new SchemaError(
        SchemaErrorCode.CORRUPT_PAYLOAD,
        `record of ${spec.name} with schema id ${id} cannot be decoded: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  async #checkSubject(spec: TopicSpecBase, id: number): Promise<void> {
    const known = this.#subjectIds.get(spec.subject) ?? new Set<number>();
    if (known.has(id)) return;
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
  }
}

function fullName(schema: unknown): string {
  const { name = '', namespace = '' } = (schema ?? {}) as { name?: string; namespace?: string };
  return name.includes('.') ? name : `${namespace}.${name}`;
}

export interface ValueProblem {
  readonly path: string;
  readonly reason: string;
}

/** Every field path at which `value` fails the topic's schema, with the expected type. */
export function validate<V>(spec: TopicSpec<V>, value: unknown): ValueProblem[] {
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
