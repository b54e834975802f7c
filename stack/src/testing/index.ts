export * from './ephemeral-kafka.ts';
