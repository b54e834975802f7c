import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger, RedisClient } from '@searchop/runtime';
import { keyLayout } from '@searchop/schemas';
import type { HttpServerOptions } from '@searchop/runtime';
import { buildRankerServer } from './app.ts';
import type { RankerSettings } from './config.ts';
import { FeatureLog, type FeatureLogWriter, type RankingLogSink } from './feature-log/feature-log.ts';
import { GuardedFeatureStore, type GuardOptions } from './feature-store/guarded-feature-store.ts';
import { RedisFeatureStore } from './feature-store/redis-feature-store.ts';
import { createRankerMetrics } from './metrics.ts';
import { ModelRegistry, type ModelRegistryOptions } from './model/model-registry.ts';
import { Ranker } from './ranker.ts';

export interface RankerServiceOptions {
  readonly redis: RedisClient;
  readonly redisKeyPrefix: string;
  readonly models: ModelRegistryOptions;
  readonly featureStore: GuardOptions;
  /** Where the feature log goes; undefined turns the log off. */
  readonly featureLog:
    { readonly sink: RankingLogSink; readonly capacityBytes: number; readonly batchSize: number } | undefined;
  readonly settings: RankerSettings;
  readonly server: HttpServerOptions;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly serverTiming?: boolean;
  readonly clock?: () => number;
}

export interface RankerService {
  readonly app: FastifyInstance;
  readonly models: ModelRegistry;
  readonly featureLog: FeatureLog | undefined;
  /** Stops the server, then flushes the feature log, then releases the model. Clients are the caller's. */
  close(): Promise<void>;
}

const NO_FEATURE_LOG: FeatureLogWriter = { offer: () => false };

/**
 * Wires the ranker from its clients: feature store behind its breaker, model registry, feature log,
 * ranker and HTTP app. main.ts calls it with clients built from the environment; tests and the
 * benchmark call it with theirs, so they run exactly the production assembly.
 */
export async function startRankerService(options: RankerServiceOptions): Promise<RankerService> {
  const { logger, registry } = options;
  const metrics = createRankerMetrics(registry);
  const store = new RedisFeatureStore(options.redis, keyLayout(options.redisKeyPrefix));
  const features = new GuardedFeatureStore(store, options.featureStore, metrics, logger);
  const models = new ModelRegistry(options.models, logger, metrics);
  const featureLog = options.featureLog
    ? new FeatureLog(options.featureLog.sink, options.featureLog, metrics, logger)
    : undefined;
  await models.start();
  const ranker = new Ranker({
    features,
    models,
    featureLog: featureLog ?? NO_FEATURE_LOG,
    metrics,
    logger,
    clock: options.clock ?? Date.now,
  });
  const app = await buildRankerServer(
    {
      ranker,
      registry,
      metrics,
      settings: options.settings,
      serverTiming: options.serverTiming ?? false,
      readiness: async () => ({
        model: models.version !== undefined,
        redis: await answersWithin(() => options.redis.ping(), options.featureStore.timeoutMs * 4),
      }),
    },
    options.server,
  );
  return {
    app,
    models,
    featureLog,
    async close() {
      await app.close();
      await featureLog?.close();
      await models.close();
    },
  };
}

/** True when `probe` resolves within `ms`; a readiness probe must not hang on a stalled Redis. */
async function answersWithin(probe: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      probe().then(
        () => true,
        () => false,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
