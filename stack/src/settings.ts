import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig, port } from '@searchop/runtime';

/** The repository root: stack/src/ is two levels below it. */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const heap = z.string().regex(/^\d+[mMgG]$/, 'expected a JVM size such as 512m or 1g');

const StackSchema = z.object({
  /** Where service data, logs and pid files live (git-ignored). */
  STACK_DIR: z.string().default(resolve(repoRoot, '.stack')),
  STACK_HOST: z.string().default('127.0.0.1'),
  KAFKA_PORT: port.default(9092),
  KAFKA_CONTROLLER_PORT: port.default(9093),
  KAFKA_HEAP: heap.default('512m'),
  SCHEMA_REGISTRY_PORT: port.default(8081),
  SCHEMA_REGISTRY_MANAGEMENT_PORT: port.default(9081),
  SCHEMA_REGISTRY_HEAP: heap.default('256m'),
  REDIS_PORT: port.default(6379),
  REDIS_MAXMEMORY: z
    .string()
    .regex(/^\d+(mb|gb)$/i, 'expected a Redis size such as 1gb')
    .default('2gb'),
  /** Seconds each service may take to answer its first real request. */
  STACK_START_TIMEOUT: z.coerce.number().int().positive().default(180),
});

export type StackSettings = z.infer<typeof StackSchema> & {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
};

export function loadStackSettings(env: Record<string, string | undefined> = process.env): StackSettings {
  const s = loadConfig(StackSchema, env);
  return {
    ...s,
    STACK_DIR: resolve(s.STACK_DIR),
    kafkaBrokers: `${s.STACK_HOST}:${s.KAFKA_PORT}`,
    schemaRegistryUrl: `http://${s.STACK_HOST}:${s.SCHEMA_REGISTRY_PORT}/apis/ccompat/v7`,
    redisUrl: `redis://${s.STACK_HOST}:${s.REDIS_PORT}`,
  };
}
