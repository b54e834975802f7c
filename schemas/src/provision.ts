import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { SCHEMA_REGISTRY_TIMEOUT_MS } from '@searchop/runtime';
import type { Admin, ITopicConfig } from 'kafkajs';
import { registryError } from './codec.ts';
import { SchemaError, SchemaErrorCode } from './errors.ts';
import { DLQ_PARTITIONS, DLQ_RETENTION_MS, rawSchemaOf, topics, type TopicSpecBase } from './topics.ts';

export interface ProvisionReport {
  readonly created: string[];
  readonly existing: string[];
  /** Existing topics whose partition count differs from the registry (never changed automatically). */
  readonly partitionDrift: { topic: string; expected: number; actual: number }[];
  readonly schemas: { subject: string; id: number }[];
}

export interface ProvisionOptions {
  readonly admin: Admin;
  readonly registry: SchemaRegistry;
  /** Base URL of the Confluent-compatible API, for the compatibility setting the client has no call for. */
  readonly registryUrl: string;
  readonly registryAuth?: { username: string; password: string };
  readonly specs?: readonly TopicSpecBase[];
  /** -1: the broker's default (1 on the local stack, 3 on MSK). */
  readonly replicationFactor?: number;
}

/**
 * Creates every topic of the registry with its DLQ (idempotently) and registers every value schema
 * under its subject with compatibility BACKWARD, set before registering so that no version is ever
 * accepted without the check.
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionReport> {
  const specs = options.specs ?? Object.values(topics);
  const { admin } = options;
  const wanted: ITopicConfig[] = specs.flatMap((spec) => [
    {
      topic: spec.name,
      numPartitions: spec.partitions,
      replicationFactor: options.replicationFactor ?? -1,
      configEntries: [
        { name: 'cleanup.policy', value: spec.cleanupPolicy },
        { name: 'retention.ms', value: String(spec.retentionMs) },
      ],
    },
    {
      topic: spec.dlq,
      numPartitions: DLQ_PARTITIONS,
      replicationFactor: options.replicationFactor ?? -1,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: String(DLQ_RETENTION_MS) },
      ],
    },
  ]);
  const present = new Set(await admin.listTopics());
  const toCreate = wanted.filter((t) => !present.has(t.topic));
  if (toCreate.length > 0) {
    await admin.createTopics({ topics: toCreate, waitForLeaders: false });
    await waitForLeaders(admin, toCreate);
  }

  const existing = wanted.filter((t) => present.has(t.topic));
  const partitionDrift: ProvisionReport['partitionDrift'] = [];
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.topic) });
    for (const t of metadata.topics) {
      const expected = wanted.find((w) => w.topic === t.name)?.numPartitions ?? 0;
      if (t.partitions.length !== expected)
        partitionDrift.push({ topic: t.name, expected, actual: t.partitions.length });
    }
  }

  const schemas: ProvisionReport['schemas'] = [];
  for (const spec of specs) {
    await setCompatibility(options, spec.subject, 'BACKWARD');
    try {
      const { id } = await options.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(rawSchemaOf(spec)) },
        { subject: spec.subject },
      );
      schemas.push({ subject: spec.subject, id });
    } catch (cause) {
      throw registryError(cause, spec.subject);
    }
  }
  return { created: toCreate.map((t) => t.topic), existing: existing.map((t) => t.topic), partitionDrift, schemas };
}

/** PUT /config/{subject}: the Confluent API call the client library does not expose. */
export async function setCompatibility(
  options: Pick<ProvisionOptions, 'registryUrl' | 'registryAuth'>,
  subject: string,
  level: 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FULL' | 'NONE',
): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
  if (options.registryAuth) {
    headers['authorization'] =
      `Basic ${Buffer.from(`${options.registryAuth.username}:${options.registryAuth.password}`).toString('base64')}`;
  }
  const url = `${options.registryUrl.replace(/\/$/, '')}/config/${encodeURIComponent(subject)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ compatibility: level }),
      signal: AbortSignal.timeout(SCHEMA_REGISTRY_TIMEOUT_MS),
    });
  } catch (cause) {
    throw registryError(cause, subject);
  }
  if (!response.ok)
    throw registryError(Object.assign(new Error(await response.text()), { status: response.status }), subject);
}

/**
 * Waits until every partition of the new topics has a leader. kafkajs' own wait (createTopics with
 * waitForLeaders) retries only LEADER_NOT_AVAILABLE and fails on UNKNOWN_TOPIC_OR_PARTITION, which a
 * busy broker answers for a moment after creating a topic; both mean "not yet" here.
 */
async function waitForLeaders(admin: Admin, created: readonly ITopicConfig[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: created.map((t) => t.topic) });
      const ready = created.every((t) => {
        const partitions = found.find((f) => f.name === t.topic)?.partitions ?? [];
        return partitions.length === t.numPartitions && partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new SchemaError(
        SchemaErrorCode.TOPICS_NOT_READY,
        `topics ${created.map((t) => t.topic).join(', ')} have no leader for every partition after ${timeoutMs} ms`,
        { retriable: true, cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
