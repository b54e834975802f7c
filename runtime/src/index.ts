export * from './errors.ts';
export * from './config.ts';
export * from './logger.ts';
export * from './kafka.ts';
export * from './redis.ts';
export * from './schema-registry.ts';
export * from './shutdown.ts';
export * from './metrics.ts';
