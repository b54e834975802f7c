export * from './errors.ts';
export * from './sdk/storefront-client.ts';
export * from './sdk/recent-ids.ts';
export * from './simulator/index.ts';
