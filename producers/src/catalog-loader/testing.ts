import { isSearchOpError } from '@searchop/runtime';
import { testServices as servicesOf, uniqueName } from '@searchop/runtime/testing';
import { EventCodec, provision, topics, type ProductChange, type TopicSpec } from '@searchop/schemas';
import { inject } from 'vitest';
import { ProducerErrorCode } from '../errors.ts';

/** Support shared by the catalogue loader's tests; services are built on first use, in integration tests only. */

/** The message of the PRD_INPUT_INVALID that `run` throws (or rejects with); fails on anything else. */
export async function inputInvalid(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (isSearchOpError(error, ProducerErrorCode.INPUT_INVALID)) return error.message;
    throw error;
  }
  throw new Error('expected PRD_INPUT_INVALID');
}

let services: ReturnType<typeof servicesOf> | undefined;

/** Kafka and the registry of the integration global setup. */
export function testServices(): ReturnType<typeof servicesOf> {
  services ??= servicesOf(inject);
  return services;
}

export interface OwnTopic {
  readonly spec: TopicSpec<ProductChange>;
  readonly codec: EventCodec;
}

/** A catalogue topic of the calling test's own: the catalogue's subject and schema under its own name. */
export async function ownCatalogTopic(): Promise<OwnTopic> {
  const { config, kafka, registry } = testServices();
  const name = `${topics.catalog.name}.${uniqueName('loader')}`;
  const spec: TopicSpec<ProductChange> = { ...topics.catalog, name, dlq: `${name}.dlq` };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs: [spec] });
  } finally {
    await admin.disconnect();
  }
  return { spec, codec: await EventCodec.connect(registry, [spec]) };
}

/** Records on a topic: the sum of its partitions' high watermarks (nothing is compacted this young). */
export async function recordCount(topic: string): Promise<number> {
  const admin = testServices().kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
