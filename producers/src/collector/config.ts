import { booleanFlag, defineConfig, kafkaEnv, logEnv, port, schemaRegistryEnv } from '@searchop/runtime';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The collector's environment: the shared Kafka/registry/log fragments plus its own COLLECTOR_* keys. */
export const collectorConfigSchema = defineConfig({
  ...kafkaEnv,
  ...schemaRegistryEnv,
  ...logEnv,
  COLLECTOR_HOST: z.string().min(1).default('127.0.0.1'),
  COLLECTOR_PORT: port.default(8090),
  /** Events per POST /v1/events. */
  COLLECTOR_MAX_EVENTS: positiveInt.default(500),
  COLLECTOR_MAX_BODY_BYTES: positiveInt.default(1_048_576),
  /**
   * Documents per POST /v1/ubi. UBI logs one impression document per shown product, so a request
   * carries several times more documents than SearchOp events; the sample file has 1,260.
   */
  COLLECTOR_UBI_MAX_DOCUMENTS: positiveInt.default(10_000),
  COLLECTOR_UBI_MAX_BODY_BYTES: positiveInt.default(4 * 1_048_576),
  /** What UBI's position.ordinal counts from (see ubi/map.ts); `?ordinal_base=` overrides per request. */
  COLLECTOR_UBI_ORDINAL_BASE: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => (v === '1' ? 1 : 0)),
  /**
   * Comma-separated API keys; callers send one as `x-api-key` or `Authorization: Bearer`. Empty: no
   * authentication (a collector behind a gateway that authenticates).
   */
  COLLECTOR_API_KEYS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    ),
  /** Requests per minute per API key (per client address when authentication is off); 0: no limit. */
  COLLECTOR_RATE_LIMIT: z.coerce.number().int().min(0).default(1_200),
  /** Events older than this are refused: beyond the longest feature window they change nothing. */
  COLLECTOR_MAX_EVENT_AGE_MS: positiveInt.default(30 * DAY_MS),
  /** Events this far ahead of the collector's clock are refused (client clocks drift, not by hours). */
  COLLECTOR_MAX_CLOCK_SKEW_MS: positiveInt.default(5 * MINUTE_MS),
  /** After Kafka failed, answer 503 at once for this long (and say so in Retry-After) instead of queueing. */
  COLLECTOR_KAFKA_RETRY_AFTER_MS: positiveInt.default(5_000),
  /** Server timeouts: a whole request, and the idle keep-alive (above a load balancer's 60 s). */
  COLLECTOR_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  COLLECTOR_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(65_000),
  /** Behind a proxy or load balancer: take the client address from X-Forwarded-For (rate limit key). */
  COLLECTOR_TRUST_PROXY: booleanFlag.default(false),
});

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

/** What the HTTP app needs of the configuration (clients and the server address stay in main.ts). */
export interface CollectorSettings {
  readonly maxEvents: number;
  readonly maxBodyBytes: number;
  readonly ubiMaxDocuments: number;
  readonly ubiMaxBodyBytes: number;
  readonly ubiOrdinalBase: 0 | 1;
  readonly apiKeys: readonly string[];
  readonly rateLimitPerMinute: number;
  readonly maxEventAgeMs: number;
  readonly maxClockSkewMs: number;
  readonly kafkaRetryAfterMs: number;
}

export function settingsFrom(config: CollectorConfig): CollectorSettings {
  return {
    maxEvents: config.COLLECTOR_MAX_EVENTS,
    maxBodyBytes: config.COLLECTOR_MAX_BODY_BYTES,
    ubiMaxDocuments: config.COLLECTOR_UBI_MAX_DOCUMENTS,
    ubiMaxBodyBytes: config.COLLECTOR_UBI_MAX_BODY_BYTES,
    ubiOrdinalBase: config.COLLECTOR_UBI_ORDINAL_BASE,
    apiKeys: config.COLLECTOR_API_KEYS,
    rateLimitPerMinute: config.COLLECTOR_RATE_LIMIT,
    maxEventAgeMs: config.COLLECTOR_MAX_EVENT_AGE_MS,
    maxClockSkewMs: config.COLLECTOR_MAX_CLOCK_SKEW_MS,
    kafkaRetryAfterMs: config.COLLECTOR_KAFKA_RETRY_AFTER_MS,
  };
}
