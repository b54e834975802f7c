export * from './ephemeral-kafka.ts';
export * from './redis-cluster.ts';
export * from './ephemeral-redis.ts';
