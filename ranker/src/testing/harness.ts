import { Registry } from 'prom-client';
import { createLogger, createRedis, defineConfig, loadConfig, redisEnv, type RedisClient } from '@searchop/runtime';
import { DEFAULT_SETTINGS, type RankerSettings } from '../config.ts';
import type { RankingLogSink } from '../feature-log/feature-log.ts';
import { startRankerService, type RankerService } from '../service.ts';

export interface TestRankerOptions {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly registryRoot: string;
  readonly pollIntervalMs?: number;
  readonly settings?: Partial<RankerSettings>;
  readonly featureLog?: RankingLogSink;
  readonly featureLogCapacityBytes?: number;
  readonly featureTimeoutMs?: number;
  readonly breakerHalfOpenMs?: number;
  readonly clock?: () => number;
}

export interface TestRanker {
  readonly service: RankerService;
  readonly redis: RedisClient;
  readonly registry: Registry;
  /** Base URL once listen() was called. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The production assembly (startRankerService) on test-owned Redis keys, registry and topics. */
export async function startTestRanker(options: TestRankerOptions): Promise<TestRanker> {
  const config = loadConfig(defineConfig(redisEnv), {
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: options.keyPrefix,
  });
  const redis = createRedis(config, { commandTimeout: 1_000 });
  redis.on('error', () => undefined);
  const registry = new Registry();
  const logger = createLogger('ranker-test', process.env['LOG_LEVEL'] ?? 'silent');
  const service = await startRankerService({
    redis,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    models: { root: options.registryRoot, pollIntervalMs: options.pollIntervalMs ?? 50, intraOpThreads: 1 },
    featureStore: {
      // Generous: a loaded CI machine must not turn a slow answer into a degraded one by accident.
      timeoutMs: options.featureTimeoutMs ?? 2_000,
      failures: 3,
      halfOpenAfterMs: options.breakerHalfOpenMs ?? 200,
    },
    featureLog: options.featureLog
      ? { sink: options.featureLog, capacityBytes: options.featureLogCapacityBytes ?? 64 * 1_048_576, batchSize: 100 }
      : undefined,
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    server: { logger, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, trustProxy: false },
    registry,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    service,
    redis,
    registry,
    async listen() {
      return service.app.listen({ host: '127.0.0.1', port: 0 });
    },
    async close() {
      await service.close();
      redis.disconnect();
    },
  };
}
