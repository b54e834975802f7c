export * from './ephemeral-kafka.ts';
export * from './redis-cluster.ts';
