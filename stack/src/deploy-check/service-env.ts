import { defineConfig, kafkaEnv, loadConfig, logEnv, schemaRegistryEnv } from '@searchop/runtime';
import type { z } from 'zod';
import { collectorConfigSchema } from '../../../producers/src/collector/config.ts';
import { simulatorConfigSchema } from '../../../producers/src/simulator/config.ts';
import { rankerConfigSchema } from '../../../ranker/src/config.ts';
import { compactorConfigSchema } from '../../../stream-processors/src/compactor/config.ts';
import { featureProcessorConfigSchema } from '../../../stream-processors/src/features/config.ts';
import { trainerEnvSchema } from '../../../trainer/src/config.ts';

/**
 * The config schema of each deployable, by the name its container, compose service and Dockerfile
 * target share: the deployment files must set only variables these schemas know, with values they
 * accept (the services' own validation, not a copy of it).
 */
export const serviceSchemas = {
  collector: collectorConfigSchema,
  'feature-processor': featureProcessorConfigSchema,
  compactor: compactorConfigSchema,
  ranker: rankerConfigSchema,
  trainer: trainerEnvSchema,
  simulator: simulatorConfigSchema,
  // schemas/src/provision-cli.ts builds the same schema inline.
  provision: defineConfig({ ...kafkaEnv, ...schemaRegistryEnv, ...logEnv }),
} as const;

export type ServiceName = keyof typeof serviceSchemas;

export function isService(name: string): name is ServiceName {
  return Object.hasOwn(serviceSchemas, name);
}

export function knownVariables(service: ServiceName): ReadonlySet<string> {
  return new Set(Object.keys((serviceSchemas[service] as z.ZodObject).shape));
}

/** Every variable any SearchOp service reads (what a shared ConfigMap may hold). */
export function allKnownVariables(): ReadonlySet<string> {
  return new Set(Object.keys(serviceSchemas).flatMap((s) => [...knownVariables(s as ServiceName)]));
}

/**
 * Problems with one service's environment: variables the service does not read (`explicit` only; a
 * shared ConfigMap may carry others' variables) and values its schema refuses.
 */
export function envProblems(
  where: string,
  service: ServiceName,
  env: Record<string, string>,
  explicit: Iterable<string>,
): string[] {
  const problems: string[] = [];
  const known = knownVariables(service);
  for (const key of explicit) {
    if (!known.has(key)) problems.push(`${where}: ${key} is not a variable of the ${service} (config schema)`);
  }
  const all = allKnownVariables();
  for (const key of Object.keys(env)) {
    if (!all.has(key)) problems.push(`${where}: ${key} is not read by any SearchOp service`);
  }
  try {
    loadConfig(serviceSchemas[service], env);
  } catch (error) {
    problems.push(`${where}: the ${service} would refuse this environment: ${(error as Error).message}`);
  }
  return problems;
}
