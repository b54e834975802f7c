// The shopper simulator's public surface: worlds and their truth (for evaluation), the simulation
// itself, rankers and sinks. main.ts is its command line.
export * from './world/types.ts';
export * from './world/generate.ts';
export * from './world/load-judgments.ts';
export * from './world/metrics.ts';
export * from './io/judgments-file.ts';
export * from './io/world-files.ts';
export * from './retrieval.ts';
export * from './click-model.ts';
export * from './session.ts';
export * from './simulator.ts';
export * from './references.ts';
export * from './world-summary.ts';
export * from './rng.ts';
export * from './rankers/ranker.ts';
export * from './rankers/in-process.ts';
export * from './rankers/http.ts';
export * from './sinks/sink.ts';
export * from './sinks/kafka-sink.ts';
export * from './sinks/ndjson-sink.ts';
