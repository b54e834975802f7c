import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { readConfigFile, type RedisEnv } from './config.ts';

export type RedisClient = Redis | Cluster;

/** Whether a client talks to a Redis Cluster (ioredis' own flag: keys must then be grouped by slot). */
export function isRedisCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster;
}

/**
 * ioredis client for a single Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES), with TLS
 * for rediss:// as ElastiCache in-transit encryption needs. Commands fail fast while disconnected
 * (no unbounded offline queue) so that callers can degrade instead of piling up requests.
 */
export function createRedis(env: RedisEnv, overrides: RedisOptions = {}): RedisClient {
  const url = new URL(env.REDIS_URL);
  const tls = url.protocol === 'rediss:';
  const common: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    // Commands issued in the same tick travel in one pipeline (per node on a cluster): the feature
    // writer's scripts and the ranker's reads become one round trip without cross-slot MGETs.
    enableAutoPipelining: true,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(tls
      ? { tls: env.REDIS_TLS_CA_FILE ? { ca: [readConfigFile('REDIS_TLS_CA_FILE', env.REDIS_TLS_CA_FILE)] } : {} }
      : {}),
    ...overrides,
  };
  if (env.REDIS_CLUSTER_NODES) {
    const nodes: ClusterNode[] = env.REDIS_CLUSTER_NODES.map((hp) => {
      const [host, portText] = hp.split(':') as [string, string];
      return { host, port: Number(portText) };
    });
    // ElastiCache cluster endpoints resolve to IPs whose certificates name the endpoint: keep the name.
    return new Cluster(nodes, {
      redisOptions: common,
      enableAutoPipelining: true,
      ...(tls ? { dnsLookup: (address, done) => done(null, address) } : {}),
    });
  }
  return new Redis({
    ...common,
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
  });
}
