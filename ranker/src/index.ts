export * from './errors.ts';
export * from './config.ts';
export * from './service.ts';
export * from './ranker.ts';
export { buildRankerServer, rankerApp, type RankerAppDeps } from './app.ts';
export { FeatureLog, type RankingLogSink } from './feature-log/feature-log.ts';
export { KafkaRankingSink } from './feature-log/kafka-sink.ts';
export { rankingLogRecord, type RankingLogRecord, type ServedRanking } from './feature-log/served-ranking.ts';
