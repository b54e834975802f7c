import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { FEATURE_COUNT, MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@searchop/schemas';
import { RankerError, RankerErrorCode } from '../errors.ts';

/**
 * A loaded, checked model version. Requests hold it from their start to their end (acquire/release),
 * so a hot swap never changes the model under a request; a retired model's session is released only
 * when the last request that holds it is done.
 */
export class RankingModel {
  readonly version: number;
  readonly #session: InferenceSession;
  #holders = 0;
  #retired = false;
  #released = false;

  constructor(version: number, session: InferenceSession) {
    this.version = version;
    this.#session = session;
  }

  /** One score per row of a row-major [rows × FEATURE_COUNT] matrix. */
  async score(matrix: Float64Array, rows: number): Promise<Float64Array> {
    if (this.#released)
      throw new RankerError(RankerErrorCode.MODEL_SCORING_FAILED, `model v${this.version} is released`);
    const input = new Tensor('float64', matrix, [rows, FEATURE_COUNT]);
    let output;
    try {
      output = (await this.#session.run({ [MODEL_INPUT_NAME]: input }))[MODEL_OUTPUT_NAME];
    } catch (cause) {
      throw new RankerError(RankerErrorCode.MODEL_SCORING_FAILED, `model v${this.version} failed to score`, { cause });
    }
    if (!output || !(output.data instanceof Float64Array) || output.data.length !== rows) {
      throw new RankerError(
        RankerErrorCode.MODEL_SCORING_FAILED,
        `model v${this.version} returned ${output?.data.length ?? 'no'} scores of type ${output?.type ?? '-'} for ${rows} rows`,
      );
    }
    return output.data;
  }

  acquire(): this {
    this.#holders++;
    return this;
  }

  release(): void {
    this.#holders--;
    if (this.#retired && this.#holders === 0) this.#dispose();
  }

  /** Taken out of service: the session is freed once no request holds the model any more. */
  retire(): void {
    this.#retired = true;
    if (this.#holders === 0) this.#dispose();
  }

  get released(): boolean {
    return this.#released;
  }

  #dispose(): void {
    if (this.#released) return;
    this.#released = true;
    void this.#session.release().catch(() => undefined);
  }
}
