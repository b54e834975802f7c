import { readFile, stat } from 'node:fs/promises';
import { FEATURE_SPEC_VERSION, parseModelVersion, registryPaths, type RegistryPaths } from '@searchop/schemas';
import type { Logger } from '@searchop/runtime';
import { isSearchOpError } from '@searchop/runtime';
import { RankerError, RankerErrorCode } from '../errors.ts';
import type { RankerMetrics } from '../metrics.ts';
import { loadRankingModel, type SessionSettings } from './load-model.ts';
import type { RankingModel } from './ranking-model.ts';

export interface ModelRegistryOptions extends SessionSettings {
  /** Registry root (schemas' registryPaths layout). */
  readonly root: string;
  /** How often the pointer is read. */
  readonly pollIntervalMs: number;
}

/**
 * The model being served, kept in step with the registry's pointer file. The pointer is read every
 * `pollIntervalMs` (polling, not fs.watch: it works the same on local disks, network mounts and
 * Kubernetes volumes, where the file is replaced by a rename or a symlink swap). A new version is
 * loaded and checked completely before it replaces the current one in a single assignment; requests
 * that started on the old model keep it to their end. A version that fails to load is refused with a
 * logged error, the current model keeps serving, and that version is not retried until the pointer
 * or the model file changes.
 */
export class ModelRegistry {
  readonly #paths: RegistryPaths;
  readonly #options: ModelRegistryOptions;
  readonly #logger: Logger;
  readonly #metrics: RankerMetrics;
  #current: RankingModel | undefined;
  #refused: { version: number; mtimeMs: number } | undefined;
  #badPointer: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #closed = false;

  constructor(options: ModelRegistryOptions, logger: Logger, metrics: RankerMetrics) {
    this.#paths = registryPaths(options.root);
    this.#options = options;
    this.#logger = logger.child({ component: 'model-registry' });
    this.#metrics = metrics;
  }

  /** Loads the current version (if the registry has a loadable one) and starts watching the pointer. */
  async start(): Promise<void> {
    await this.refresh();
    this.#schedule();
  }

  /** The model a request should use, held until it calls release() on it; undefined when none is loaded. */
  acquire(): RankingModel | undefined {
    return this.#current?.acquire();
  }

  get version(): number | undefined {
    return this.#current?.version;
  }

  /** Reads the pointer once and swaps models if it names another loadable version. Never throws. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshOnce().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#refreshing;
    const current = this.#current;
    this.#current = undefined;
    this.#metrics.modelVersion.reset();
    current?.retire();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.refresh().finally(() => this.#schedule());
    }, this.#options.pollIntervalMs);
    this.#timer.unref();
  }

  async #refreshOnce(): Promise<void> {
    try {
      const version = await this.#readPointer();
      if (version === undefined || version === this.#current?.version) return;
      const path = this.#paths.model(version);
      const mtimeMs = await stat(path).then(
        (s) => s.mtimeMs,
        () => -1,
      );
      if (this.#refused?.version === version && this.#refused.mtimeMs === mtimeMs) return;
      await this.#load(version, path, mtimeMs);
    } catch (error) {
      this.#logger.error({ err: error }, 'model registry check failed');
    }
  }

  async #readPointer(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.#paths.pointer, 'utf8');
    } catch (error) {
      this.#pointerProblem(`cannot read ${this.#paths.pointer}: ${(error as Error).message}`);
      return undefined;
    }
    const version = parseModelVersion(text);
    if (version === undefined)
      this.#pointerProblem(`${this.#paths.pointer} holds ${JSON.stringify(text.slice(0, 40))}`);
    else this.#badPointer = undefined;
    return version;
  }

  /** Logged once per distinct problem, not at every poll. */
  #pointerProblem(problem: string): void {
    if (this.#badPointer === problem) return;
    this.#badPointer = problem;
    this.#logger.error(
      { code: RankerErrorCode.MODEL_POINTER_INVALID, serving: this.#current?.version ?? null },
      `model pointer unusable: ${problem}`,
    );
  }

  async #load(version: number, path: string, mtimeMs: number): Promise<void> {
    const started = performance.now();
    let model: RankingModel;
    try {
      model = await loadRankingModel(path, version, this.#options);
    } catch (error) {
      this.#refused = { version, mtimeMs };
      const code = isSearchOpError(error) ? error.code : RankerErrorCode.MODEL_UNLOADABLE;
      this.#metrics.modelLoads.inc({ outcome: code });
      this.#logger.error(
        {
          code,
          version,
          serving: this.#current?.version ?? null,
          err: error instanceof RankerError ? undefined : error,
        },
        `model v${version} refused, keeping ${this.#current ? `v${this.#current.version}` : 'no model'}: ${(error as Error).message}`,
      );
      return;
    }
    if (this.#closed) {
      model.retire();
      return;
    }
    const previous = this.#current;
    // The swap: one assignment. Requests that acquired `previous` keep it; new ones get `model`.
    this.#current = model;
    this.#refused = undefined;
    previous?.retire();
    this.#metrics.modelLoads.inc({ outcome: 'loaded' });
    this.#metrics.modelVersion.reset();
    this.#metrics.modelVersion.set({ version: String(version), feature_spec_version: FEATURE_SPEC_VERSION }, 1);
    this.#logger.info(
      { version, previous: previous?.version ?? null, loadMs: Math.round(performance.now() - started) },
      `serving model v${version}`,
    );
  }
}
