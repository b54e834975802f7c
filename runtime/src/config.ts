import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RuntimeErrorCode, SearchOpError } from './errors.ts';

/**
 * Configuration comes from environment variables only, validated once at boot by one zod schema
 * per service; the service's config type is inferred from that schema. Invalid configuration
 * fails at boot with every offending variable named.
 *
 * The fragments below are shared by every service so that the same variable means the same thing
 * everywhere (and in the local stack, docker-compose and Kubernetes manifests).
 */

type Env = Record<string, string | undefined>;

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

/** "true"/"1"/"yes" and "false"/"0"/"no" (any case); anything else is an error naming the variable. */
export const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const port = z.coerce.number().int().min(0).max(65535);

/** A comma-separated list of host:port pairs. */
export const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(hostPort).min(1, 'expected at least one host:port'));

export const logEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export const kafkaEnv = {
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('searchop'),
  /** TLS to the brokers (MSK's TLS listener, Confluent Cloud, ...). */
  KAFKA_SSL: booleanFlag.default(false),
  /** PEM bundle of extra CAs for KAFKA_SSL; the system CAs are used when unset. */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** Appended to every topic name (and its DLQ's): several deployments, pipeline runs or tests on one cluster. */
  TOPIC_NAME_SUFFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'letters, digits, ".", "_" and "-" only')
    .default(''),
};

export const schemaRegistryEnv = {
  /** Base URL of the Confluent-compatible API (Apicurio serves it under /apis/ccompat/v7). */
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  /** Longest wait for one registry answer: a registry that never answers fails a start with an error, not a hang. */
  SCHEMA_REGISTRY_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
};

export const redisEnv = {
  /** redis://[user:password@]host:port[/db]; rediss:// for TLS (ElastiCache in-transit encryption). */
  REDIS_URL: z
    .url()
    .refine((u) => /^rediss?:\/\//.test(u), 'expected a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  /** When set, Redis Cluster mode: comma-separated seed nodes; REDIS_URL then only supplies credentials and TLS. */
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  /** PEM bundle of extra CAs for rediss://. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** Key prefix of every key this deployment writes, so that several deployments can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('so:'),
};

/**
 * Builds a service's config schema from fragments plus its own keys, adding cross-field rules that
 * every service needs (SASL credentials come in pairs).
 */
export function defineConfig<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape).superRefine((value, ctx) => {
    const v = value as Record<string, unknown>;
    if (v['KAFKA_SASL_MECHANISM'] !== undefined) {
      for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
        if (v[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'required when KAFKA_SASL_MECHANISM is set' });
        }
      }
    }
  });
}

/** Parses the environment; throws RUN_CONFIG_INVALID naming every invalid variable. */
export function loadConfig<Schema extends z.ZodType>(schema: Schema, env: Env): z.infer<Schema> {
  // Empty strings count as unset, as in most twelve-factor tooling (`FOO= cmd` unsets FOO).
  const cleaned: Env = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') cleaned[key] = value;
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(config)';
    const given = typeof issue.path[0] === 'string' ? cleaned[issue.path[0]] : undefined;
    const shown = given === undefined ? '' : ` (got ${JSON.stringify(redact(issue.path[0] as string, given))})`;
    return `${key}: ${issue.message}${shown}`;
  });
  throw new SearchOpError(RuntimeErrorCode.CONFIG_INVALID, `invalid configuration:\n  ${lines.join('\n  ')}`);
}

function redact(key: string, value: string): string {
  return /PASSWORD|SECRET|TOKEN|KEYS?$/.test(key) ? '***' : value;
}

export function readConfigFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SearchOpError(RuntimeErrorCode.CONFIG_FILE_UNREADABLE, `${key}: cannot read ${path}`, { cause });
  }
}

export type KafkaEnv = z.infer<z.ZodObject<typeof kafkaEnv>>;
export type RedisEnv = z.infer<z.ZodObject<typeof redisEnv>>;
/** The timeout has a default, so code that builds these settings by hand may leave it out. */
export type SchemaRegistryEnv = Omit<z.infer<z.ZodObject<typeof schemaRegistryEnv>>, 'SCHEMA_REGISTRY_TIMEOUT_MS'> & {
  SCHEMA_REGISTRY_TIMEOUT_MS?: number;
};
