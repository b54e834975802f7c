import { readFile } from 'node:fs/promises';
import { InferenceSession } from 'onnxruntime-node';
import {
  FEATURE_COUNT,
  FEATURE_DEFAULTS,
  FEATURE_NAMES,
  FEATURE_SPEC_VERSION,
  MODEL_INPUT_NAME,
  MODEL_METADATA,
  MODEL_OUTPUT_NAME,
} from '@searchop/schemas';
import { RankerError, RankerErrorCode } from '../errors.ts';
import { readOnnxMetadata } from './onnx-metadata.ts';
import { RankingModel } from './ranking-model.ts';

export interface SessionSettings {
  /** onnxruntime intra-op threads (1: a request's scoring stays on the event loop's core). */
  readonly intraOpThreads: number;
}

/**
 * Loads a model file and checks it against the ranker's feature spec before anything serves it: the
 * metadata must name this spec version and exactly these feature names in this order, the graph must
 * take one double [N, FEATURE_COUNT] input and give one double score per row, and it must score a
 * row of defaults. Any mismatch throws RNK_MODEL_SPEC_MISMATCH saying what differs.
 */
export async function loadRankingModel(path: string, version: number, settings: SessionSettings) {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new RankerError(RankerErrorCode.MODEL_UNLOADABLE, `model v${version}: cannot read ${path}`, { cause });
  }
  let metadata: Map<string, string>;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (cause) {
    throw new RankerError(RankerErrorCode.MODEL_UNLOADABLE, `model v${version}: ${path} is not an ONNX model`, {
      cause,
    });
  }
  checkMetadata(version, metadata);

  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw new RankerError(
      RankerErrorCode.MODEL_UNLOADABLE,
      `model v${version}: onnxruntime cannot load ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const model = new RankingModel(version, session);
  try {
    checkSignature(version, session);
    // A model that loads but cannot score is refused here, not on the first request.
    await model.score(Float64Array.from(FEATURE_DEFAULTS), 1);
  } catch (error) {
    model.retire();
    if (error instanceof RankerError && error.code === RankerErrorCode.MODEL_SCORING_FAILED) {
      throw new RankerError(RankerErrorCode.MODEL_SPEC_MISMATCH, `model v${version}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return model;
}

function mismatch(version: number, message: string): RankerError {
  return new RankerError(
    RankerErrorCode.MODEL_SPEC_MISMATCH,
    `model v${version} does not match feature spec ${FEATURE_SPEC_VERSION}: ${message}`,
  );
}

function checkMetadata(version: number, metadata: Map<string, string>): void {
  const specVersion = metadata.get(MODEL_METADATA.featureSpecVersion);
  if (specVersion !== FEATURE_SPEC_VERSION) {
    throw mismatch(
      version,
      specVersion === undefined
        ? `metadata_props has no ${MODEL_METADATA.featureSpecVersion}`
        : `it was built for feature spec ${specVersion}`,
    );
  }
  const namesJson = metadata.get(MODEL_METADATA.featureNames);
  let names: unknown;
  try {
    names = namesJson === undefined ? undefined : JSON.parse(namesJson);
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw mismatch(version, `metadata_props has no JSON array of names in ${MODEL_METADATA.featureNames}`);
  }
  const differing: string[] = [];
  for (let i = 0; i < Math.max(names.length, FEATURE_COUNT); i++) {
    if (names[i] !== FEATURE_NAMES[i]) {
      differing.push(
        `#${i} model ${JSON.stringify(names[i] ?? null)} vs spec ${JSON.stringify(FEATURE_NAMES[i] ?? null)}`,
      );
    }
  }
  if (differing.length > 0) {
    throw mismatch(
      version,
      `${names.length} feature names, ${differing.length} differ from the spec's ${FEATURE_COUNT}: ${differing.slice(0, 5).join('; ')}`,
    );
  }
}

function checkSignature(version: number, session: InferenceSession): void {
  const inputs = session.inputMetadata;
  const outputs = session.outputMetadata;
  const input = inputs.find((m) => m.name === MODEL_INPUT_NAME);
  if (inputs.length !== 1 || !input) {
    throw mismatch(version, `expected one input "${MODEL_INPUT_NAME}", got ${inputs.map((m) => m.name).join(', ')}`);
  }
  if (!input.isTensor || input.type !== 'float64') {
    throw mismatch(version, `input "${MODEL_INPUT_NAME}" must be a double tensor, got ${describe(input)}`);
  }
  const [rows, width, ...rest] = input.shape;
  // Rows must be a free dimension (symbolic, or -1): a fixed batch cannot take a request's candidates.
  const freeRows = typeof rows === 'string' || rows === -1;
  if (input.shape.length !== 2 || !freeRows || width !== FEATURE_COUNT || rest.length > 0) {
    throw mismatch(
      version,
      `input "${MODEL_INPUT_NAME}" must have shape [N, ${FEATURE_COUNT}], got [${input.shape.join(', ')}]`,
    );
  }
  const output = outputs.find((m) => m.name === MODEL_OUTPUT_NAME);
  if (!output) {
    throw mismatch(version, `no output "${MODEL_OUTPUT_NAME}" (outputs: ${outputs.map((m) => m.name).join(', ')})`);
  }
  if (!output.isTensor || output.type !== 'float64') {
    throw mismatch(version, `output "${MODEL_OUTPUT_NAME}" must be a double tensor, got ${describe(output)}`);
  }
}

function describe(metadata: InferenceSession.ValueMetadata): string {
  return metadata.isTensor ? `${metadata.type} [${metadata.shape.join(', ')}]` : 'a non-tensor value';
}
