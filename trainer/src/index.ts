export * from './errors.ts';
export * from './gates.ts';
export * from './evaluate/metrics.ts';
export { ModelRegistry } from './registry/registry.ts';
export { runTraining, type RunOptions, type RunResult } from './run.ts';
export { backfill, Backfill, type ExampleBlock, type ReplayEvent, type ReplayStep } from './data/backfill.ts';
export { FeatureReplay, CatalogState } from './data/replay.ts';
