import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, logEnv } from '@searchop/runtime';
import { z, type ZodType } from 'zod';
import { dataConfigSchema, type DataConfig } from './data/data-config.ts';
import { TrainerError, TrainerErrorCode } from './errors.ts';
import { gatesConfigSchema, type GatesConfig } from './gates.ts';

/**
 * The trainer's configuration directory (trainer/config by default):
 *   data.json      how examples are built (data/data-config.ts)
 *   gates.json     promotion gates (gates.ts)
 *   lightgbm.json  LightGBM hyper-parameters and the split (validated by the fit step, see trainer/python)
 */
export const DEFAULT_CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

export interface TrainerConfigFiles {
  readonly dir: string;
  readonly data: DataConfig;
  readonly gates: GatesConfig;
  readonly lightgbmPath: string;
  /** The LightGBM file as read, recorded with the model. */
  readonly lightgbm: unknown;
}

export async function loadConfigFiles(dir: string = DEFAULT_CONFIG_DIR): Promise<TrainerConfigFiles> {
  const lightgbmPath = join(dir, 'lightgbm.json');
  return {
    dir,
    data: await readJson(join(dir, 'data.json'), dataConfigSchema),
    gates: await readJson(join(dir, 'gates.json'), gatesConfigSchema),
    lightgbmPath,
    lightgbm: await readJson(lightgbmPath, z.unknown()),
  };
}

async function readJson<T>(path: string, schema: ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new TrainerError(TrainerErrorCode.CONFIG_INVALID, `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new TrainerError(TrainerErrorCode.CONFIG_INVALID, `${path}:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

/** The environment of the trainer's CLI (flags override). */
export const trainerEnvSchema = defineConfig({
  ...logEnv,
  /** Root of the offline store the compactor writes. */
  OFFLINE_STORE_ROOT: z.string().min(1).default('./offline-store'),
  /** Root of the model registry (schemas/src/model-registry.ts); the ranker reads the same. */
  MODEL_REGISTRY_ROOT: z.string().min(1).default('./model-registry'),
  /** DuckDB's memory limit for build-data and evaluation; beyond it, sorts and joins spill to the work directory. */
  TRAINER_DUCKDB_MEMORY: z.string().min(1).default('4GB'),
  TRAINER_DUCKDB_THREADS: z.coerce.number().int().positive().default(2),
  /**
   * Worker threads of the backfill: each replays the whole event stream but computes the features of
   * its share of the products (the bulk of the work), in its own DuckDB (TRAINER_DUCKDB_MEMORY each).
   */
  TRAINER_BACKFILL_WORKERS: z.coerce.number().int().positive().default(2),
  /** The Python virtualenv of the fit and export steps (created on first use). */
  TRAINER_VENV: z.string().min(1).optional(),
  /** Prometheus Pushgateway base URL: each run pushes its outcome and metrics there (trainer/src/run-metrics.ts). */
  TRAINER_PUSHGATEWAY_URL: z.url().optional(),
});
export type TrainerEnv = z.infer<typeof trainerEnvSchema>;
