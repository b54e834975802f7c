export * from './ephemeral-kafka.ts';
export * from './redis-cluster.ts';
export * from './prometheus.ts';
export * from './ephemeral-redis.ts';
export { redisAnswers } from '../services/redis.ts';
