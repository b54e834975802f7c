export * from './assets.ts';
export * from './promql.ts';
export * from './exported-names.ts';
