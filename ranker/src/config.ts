import { booleanFlag, defineConfig, kafkaEnv, logEnv, port, redisEnv, schemaRegistryEnv } from '@searchop/runtime';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0),
  );

/** The ranker's environment: the shared Kafka/registry/Redis/log fragments plus its own keys. */
export const rankerConfigSchema = defineConfig({
  ...kafkaEnv,
  ...schemaRegistryEnv,
  ...redisEnv,
  ...logEnv,
  RANKER_HOST: z.string().min(1).default('0.0.0.0'),
  RANKER_PORT: port.default(8080),
  /** Root of the model registry (schemas' registryPaths): models/model_v{N}.onnx and the pointer. */
  MODEL_REGISTRY_ROOT: z.string().min(1).default('./model-registry'),
  /** How often the pointer file is read: a new version is served within this time. */
  MODEL_POLL_INTERVAL_MS: positiveInt.default(2_000),
  /** onnxruntime intra-op threads per session; 1 keeps a request on one core (see bench/results/ranker.md). */
  RANKER_ONNX_INTRA_OP_THREADS: positiveInt.default(1),
  RANKER_MAX_CANDIDATES: positiveInt.default(1_000),
  RANKER_MAX_QUERY_LENGTH: positiveInt.default(512),
  /** Longest product, user or session id accepted. */
  RANKER_MAX_ID_LENGTH: positiveInt.default(256),
  /** 1,000 candidates with retrieval scores take about 60 kB; 1 MiB leaves room and refuses abuse. */
  RANKER_BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  /** Deeper JSON is refused before parsing: the request schema is three levels deep. */
  RANKER_MAX_JSON_DEPTH: positiveInt.default(16),
  /** Comma-separated API keys accepted as `x-api-key` or `Authorization: Bearer`; empty: no authentication. */
  RANKER_API_KEYS: list,
  /** Requests per RANKER_RATE_LIMIT_WINDOW_MS per API key (per client address without keys); 0: no limit. */
  RANKER_RATE_LIMIT_MAX: nonNegativeInt.default(60_000),
  RANKER_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  /** Server timeouts: a whole request, and the idle keep-alive (above a load balancer's 60 s). */
  RANKER_REQUEST_TIMEOUT_MS: positiveInt.default(10_000),
  RANKER_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(65_000),
  RANKER_TRUST_PROXY: booleanFlag.default(false),
  /**
   * The feature store's answer for one request must come within this time, else the request is
   * served on default features (degraded). A healthy Redis answers 1,000 candidates in ~2 ms.
   */
  RANKER_FEATURE_TIMEOUT_MS: positiveInt.default(50),
  /** Consecutive feature-store failures that open the circuit (requests then skip Redis at once). */
  RANKER_BREAKER_FAILURES: positiveInt.default(5),
  /** How long the circuit stays open before one request probes Redis again. */
  RANKER_BREAKER_HALF_OPEN_MS: positiveInt.default(1_000),
  /** Log every ranking's feature vectors to Kafka (the trainer's data). */
  RANKER_FEATURE_LOG_ENABLED: booleanFlag.default(true),
  /**
   * Memory for rankings waiting for Kafka (their feature matrices: ~53 kB for 100 candidates); beyond
   * it rankings are dropped and counted. 64 MiB.
   */
  RANKER_FEATURE_LOG_BUFFER_BYTES: positiveInt.default(64 * 1_048_576),
  /** Rankings per Kafka send. */
  RANKER_FEATURE_LOG_BATCH: positiveInt.default(200),
  /** Adds `Server-Timing: app;dur=<ms>` to every answer (server-side latency, read by the benchmark). */
  RANKER_SERVER_TIMING: booleanFlag.default(false),
});

export type RankerConfig = z.infer<typeof rankerConfigSchema>;

/** What the HTTP app needs of the configuration (clients and the server address stay in main.ts). */
export interface RankerSettings {
  readonly maxCandidates: number;
  readonly maxQueryLength: number;
  readonly maxIdLength: number;
  readonly bodyLimitBytes: number;
  readonly maxJsonDepth: number;
  readonly apiKeys: readonly string[];
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
}

export function settingsFrom(config: RankerConfig): RankerSettings {
  return {
    maxCandidates: config.RANKER_MAX_CANDIDATES,
    maxQueryLength: config.RANKER_MAX_QUERY_LENGTH,
    maxIdLength: config.RANKER_MAX_ID_LENGTH,
    bodyLimitBytes: config.RANKER_BODY_LIMIT_BYTES,
    maxJsonDepth: config.RANKER_MAX_JSON_DEPTH,
    apiKeys: config.RANKER_API_KEYS,
    rateLimitMax: config.RANKER_RATE_LIMIT_MAX,
    rateLimitWindowMs: config.RANKER_RATE_LIMIT_WINDOW_MS,
  };
}

/** Defaults for tests and benchmarks that build the app without an environment. */
export const DEFAULT_SETTINGS: RankerSettings = settingsFrom(rankerConfigSchema.parse({}));
