import { defineConfig, kafkaEnv, logEnv, schemaRegistryEnv } from '@searchop/runtime';
import { z } from 'zod';

/**
 * The simulator's environment (its command line is in cli-options.ts): the shared Kafka, registry and
 * log settings, used with --sink kafka, plus its own keys.
 */
export const simulatorConfigSchema = defineConfig({
  ...kafkaEnv,
  ...schemaRegistryEnv,
  ...logEnv,
  /** API key for the ranking service's POST /rank (--ranker http), sent as x-api-key; a secret, so not an option. */
  SIMULATOR_RANK_API_KEY: z.string().min(1).optional(),
});
export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;
