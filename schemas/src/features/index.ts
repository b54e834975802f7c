export * from './tiles.ts';
export * from './state-codec.ts';
export * from './text.ts';
export * from './catalog-entry.ts';
export * from './spec.ts';
export * from './redis-keys.ts';
export * from './increments.ts';
