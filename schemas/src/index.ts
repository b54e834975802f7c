export * from './generated/events.ts';
export * from './topics.ts';
export * from './normalize-query.ts';
export * from './codec.ts';
export * from './errors.ts';
export * from './provision.ts';
export * from './features/index.ts';
export * from './model-registry.ts';
