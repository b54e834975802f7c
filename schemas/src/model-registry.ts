import { join } from 'node:path';

/**
 * The model registry's layout on a filesystem root (local by default; an object store later), the
 * contract between the trainer, which writes it, and the ranker, which reads it:
 *
 *   <root>/models/model_v{N}.onnx                 the exported model (double-precision trees)
 *   <root>/models/current_model_version.txt       the production pointer: "N\n", replaced atomically
 *   <root>/artifacts/training_metrics_v{N}.json   metrics, baselines, feature spec, data window, parameters
 *
 * The ONNX model takes one input, MODEL_INPUT_NAME, a double tensor [N, FEATURE_COUNT] in the
 * feature spec's order, and gives one output, MODEL_OUTPUT_NAME, [N] or [N, 1] scores (higher first).
 * Its metadata_props carry the feature spec version and the feature names, which the ranker checks
 * against its own spec before it serves the model.
 */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUT_NAME = 'score';
export const MODEL_METADATA = {
  featureSpecVersion: 'searchop.feature_spec_version',
  /** JSON array of the feature names, in input order. */
  featureNames: 'searchop.feature_names',
  modelVersion: 'searchop.model_version',
} as const;

export interface RegistryPaths {
  readonly modelsDir: string;
  readonly artifactsDir: string;
  readonly pointer: string;
  model(version: number): string;
  metrics(version: number): string;
}

export function registryPaths(root: string): RegistryPaths {
  const modelsDir = join(root, 'models');
  const artifactsDir = join(root, 'artifacts');
  return {
    modelsDir,
    artifactsDir,
    pointer: join(modelsDir, 'current_model_version.txt'),
    model: (version) => join(modelsDir, `model_v${version}.onnx`),
    metrics: (version) => join(artifactsDir, `training_metrics_v${version}.json`),
  };
}

/** Parses the pointer file's content: a positive integer version, or undefined when malformed. */
export function parseModelVersion(text: string): number | undefined {
  const trimmed = text.trim().replace(/^v/, '');
  return /^[1-9]\d*$/.test(trimmed) ? Number(trimmed) : undefined;
}
