import { readFile } from 'node:fs/promises';
import { FEATURE_COUNT, MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@searchop/schemas';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { TrainerError, TrainerErrorCode } from '../errors.ts';

const BATCH_ROWS = 20_000;

/**
 * Scores feature rows with an ONNX model in onnxruntime-node — the runtime and the graph the ranker
 * serves — so evaluation sees exactly the scores production will compute, not LightGBM's own.
 */
export class OnnxScorer {
  readonly #session: InferenceSession;

  private constructor(session: InferenceSession) {
    this.#session = session;
  }

  static async load(path: string): Promise<OnnxScorer> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(await readFile(path), { graphOptimizationLevel: 'all' });
    } catch (cause) {
      throw new TrainerError(
        TrainerErrorCode.MODEL_INVALID,
        `onnxruntime cannot load ${path}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    const input = session.inputMetadata.find((m) => m.name === MODEL_INPUT_NAME);
    const width = input?.isTensor ? input.shape[1] : undefined;
    if (!input?.isTensor || input.type !== 'float64' || width !== FEATURE_COUNT) {
      await session.release();
      throw new TrainerError(
        TrainerErrorCode.FEATURES_MISMATCH,
        `${path} does not take a double [N, ${FEATURE_COUNT}] input "${MODEL_INPUT_NAME}"`,
      );
    }
    return new OnnxScorer(session);
  }

  /** Scores `rows` rows of FEATURE_COUNT values (row-major). */
  async score(features: Float64Array, rows: number): Promise<Float64Array> {
    const scores = new Float64Array(rows);
    for (let from = 0; from < rows; from += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - from);
      const input = new Tensor('float64', features.subarray(from * FEATURE_COUNT, (from + n) * FEATURE_COUNT), [
        n,
        FEATURE_COUNT,
      ]);
      const output = await this.#session.run({ [MODEL_INPUT_NAME]: input });
      const data = output[MODEL_OUTPUT_NAME]?.data;
      if (!(data instanceof Float64Array) || data.length !== n) {
        throw new TrainerError(TrainerErrorCode.MODEL_INVALID, `the model did not give ${n} double scores`);
      }
      scores.set(data, from);
    }
    return scores;
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}
