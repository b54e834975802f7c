import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { isSearchOpError } from '@searchop/runtime';
import { testServices, uniqueName } from '@searchop/runtime/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventCodec } from './codec.ts';
import { SchemaErrorCode } from './errors.ts';
import { provision, setCompatibility } from './provision.ts';
import { topics, type TopicSpec, type TopicSpecBase } from './topics.ts';
import type { Click } from './generated/events.ts';

const { config, kafka, registry } = testServices(inject);
const registryUrl = config.SCHEMA_REGISTRY_URL;
const admin = kafka.admin();

/** The registry's topics under names of this test's own, so runs never share state. */
function ownTopics(): TopicSpecBase[] {
  const suffix = uniqueName('t');
  return Object.values(topics).map((t) => ({
    ...t,
    name: `${t.name}.${suffix}`,
    subject: `${t.name}.${suffix}-value`,
    dlq: `${t.name}.${suffix}.dlq`,
  }));
}

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('provision', () => {
  it('creates every topic with its DLQ and config, registers every schema BACKWARD, and is idempotent', async () => {
    const specs = ownTopics();
    const first = await provision({ admin, registry, registryUrl, specs });
    expect(first.created.sort()).toEqual(specs.flatMap((s) => [s.name, s.dlq]).sort());
    expect(first.schemas.map((s) => s.subject).sort()).toEqual(specs.map((s) => s.subject).sort());

    const second = await provision({ admin, registry, registryUrl, specs });
    expect(second.created).toEqual([]);
    expect(second.partitionDrift).toEqual([]);
    expect(second.schemas).toEqual(first.schemas);

    const catalog = specs.find((s) => s.id === 'catalog')!;
    const impressions = specs.find((s) => s.id === 'impressions')!;
    const described = await admin.describeConfigs({
      resources: [catalog.name, impressions.name].map((name) => ({
        type: 2,
        name,
        configNames: ['cleanup.policy', 'retention.ms'],
      })),
      includeSynonyms: false,
    });
    const configOf = (name: string) =>
      Object.fromEntries(
        described.resources
          .find((r) => r.resourceName === name)!
          .configEntries.map((e) => [e.configName, e.configValue]),
      );
    expect(configOf(catalog.name)).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '-1' });
    expect(configOf(impressions.name)['cleanup.policy']).toBe('delete');
    const metadata = await admin.fetchTopicMetadata({ topics: [impressions.name, impressions.dlq] });
    const partitionsOf = (name: string) => metadata.topics.find((t) => t.name === name)?.partitions.length;
    expect([partitionsOf(impressions.name), partitionsOf(impressions.dlq)]).toEqual([impressions.partitions, 1]);

    for (const spec of specs) {
      const response = await fetch(`${registryUrl}/config/${encodeURIComponent(spec.subject)}`);
      expect(((await response.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
    }
  });
});

describe('schema evolution through the registry (BACKWARD)', () => {
  const base = {
    type: 'record',
    name: 'Evolving',
    namespace: 'io.searchop.test',
    fields: [{ name: 'event_id', type: 'string' }],
  };

  it('rejects an incompatible change and accepts a compatible one', async () => {
    const subject = `${uniqueName('evolve')}-value`;
    await setCompatibility({ registryUrl }, subject, 'BACKWARD');
    const register = (schema: object) =>
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
    const v1 = await register(base);

    // A new required field without a default: readers of v2 cannot read v1 data.
    const incompatible = { ...base, fields: [...base.fields, { name: 'quantity', type: 'int' }] };
    await expect(register(incompatible)).rejects.toMatchObject({ status: 409 });

    // The same field with a default is a BACKWARD-compatible change.
    const compatible = { ...base, fields: [...base.fields, { name: 'quantity', type: 'int', default: 1 }] };
    const v2 = await register(compatible);
    expect(v2.id).not.toBe(v1.id);
    expect(await registry.getLatestSchemaId(subject)).toBe(v2.id);
  });
});

describe('EventCodec', () => {
  it('round-trips a value and refuses poison with typed errors', async () => {
    const specs = ownTopics();
    await provision({ admin, registry, registryUrl, specs });
    const codec = await EventCodec.connect(registry, specs);
    const clicks = specs.find((s) => s.id === 'clicks') as TopicSpec<Click>;
    const click: Click = {
      event_id: 'e-1',
      occurred_at: 1_764_000_000_000,
      impression_id: 'imp-1',
      request_id: null,
      query: 'Drill',
      normalized_query: 'drill',
      user_id: null,
      session_id: 's-1',
      product_id: 'p-1',
      position: 3,
    };
    const encoded = await codec.encode(clicks, click);
    expect(await codec.decode(clicks, encoded)).toEqual(click);

    const codeOf = async (promise: Promise<unknown>) =>
      promise.then(
        () => 'no error',
        (e: unknown) => (isSearchOpError(e) ? e.code : String(e)),
      );
    expect(await codeOf(codec.encode(clicks, { ...click, position: 'third' } as unknown as Click))).toBe(
      SchemaErrorCode.INVALID_VALUE,
    );
    // encodeBuilt (no separate validation pass): the same bytes, and still refuses an invalid value.
    expect(await codec.encodeBuilt(clicks, click)).toEqual(encoded);
    expect(await codeOf(codec.encodeBuilt(clicks, { ...click, position: 'third' } as unknown as Click))).toBe(
      SchemaErrorCode.INVALID_VALUE,
    );
    expect(await codeOf(codec.encodeBuilt(clicks, { ...click, session_id: undefined } as unknown as Click))).toBe(
      SchemaErrorCode.INVALID_VALUE,
    );
    expect(await codeOf(codec.decode(clicks, Buffer.from('{"json":true}')))).toBe(SchemaErrorCode.BAD_MAGIC_BYTE);
    const unknownId = Buffer.from(encoded);
    unknownId.writeInt32BE(2_000_000_000, 1);
    expect(await codeOf(codec.decode(clicks, unknownId))).toBe(SchemaErrorCode.UNKNOWN_SCHEMA_ID);
    expect(await codeOf(codec.decode(clicks, encoded.subarray(0, 9)))).toBe(SchemaErrorCode.CORRUPT_PAYLOAD);
    const impressions = specs.find((s) => s.id === 'impressions') as TopicSpec<unknown>;
    expect(await codeOf(codec.decode(impressions, encoded))).toBe(SchemaErrorCode.WRONG_SUBJECT);
  });
});
