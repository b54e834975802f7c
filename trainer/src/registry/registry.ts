import { randomBytes } from 'node:crypto';
import { appendFile, link, mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MODEL_METADATA, parseModelVersion, registryPaths, type RegistryPaths } from '@searchop/schemas';
import { TrainerError, TrainerErrorCode } from '../errors.ts';
import { withMetadataEntry } from './onnx-stamp.ts';

/**
 * The model registry on a local filesystem, in the layout of schemas/src/model-registry.ts:
 *
 *   models/model_v{N}.onnx, artifacts/training_metrics_v{N}.json, models/current_model_version.txt
 *
 * - Versions increment automatically and are claimed atomically: the model is written to a temporary
 *   file, fsynced, then hard-linked to model_v{N}.onnx, which fails if another run took N first (the
 *   claim then moves to N + 1). A registered model is never overwritten.
 * - The pointer changes atomically: a temporary file in the same directory, fsynced, renamed over the
 *   pointer (rename(2) replaces it in one step), then the directory fsynced. A reader (the ranker polls
 *   it) sees the old version or the new one, never a partial file.
 * - Every pointer change is appended to artifacts/pointer_history.jsonl, the audit trail of promotions
 *   and rollbacks.
 */
export class ModelRegistry {
  readonly root: string;
  readonly paths: RegistryPaths;
  readonly #now: () => Date;

  constructor(root: string, now: () => Date = () => new Date()) {
    this.root = root;
    this.paths = registryPaths(root);
    this.#now = now;
  }

  /** Registered versions (those with a model file), ascending. */
  async versions(): Promise<number[]> {
    return (await versionsIn(this.paths.modelsDir, /^model_v([1-9]\d*)\.onnx$/)).sort((a, b) => a - b);
  }

  /** The production version, or undefined when nothing was ever promoted. */
  async current(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.paths.pointer, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw io(`read ${this.paths.pointer}`, error);
    }
    const version = parseModelVersion(text);
    if (version === undefined) {
      throw new TrainerError(
        TrainerErrorCode.REGISTRY_INVALID,
        `${this.paths.pointer} holds ${JSON.stringify(text.slice(0, 40))}, not a model version`,
      );
    }
    return version;
  }

  /**
   * Registers a model under the next free version: the ONNX bytes (stamped with the version in
   * metadata_props) as model_v{N}.onnx, then the metrics built for N as training_metrics_v{N}.json.
   * Does not move the pointer.
   */
  async register(onnx: Uint8Array, metricsFor: (version: number) => unknown): Promise<number> {
    await mkdir(this.paths.modelsDir, { recursive: true });
    await mkdir(this.paths.artifactsDir, { recursive: true });
    const taken = new Set([
      ...(await this.versions()),
      ...(await versionsIn(this.paths.artifactsDir, /^training_metrics_v([1-9]\d*)\.json$/)),
    ]);
    let version = Math.max(0, ...taken) + 1;
    for (;;) {
      const bytes = withMetadataEntry(onnx, MODEL_METADATA.modelVersion, String(version));
      const temp = await writeTemp(this.paths.model(version), bytes);
      try {
        await link(temp, this.paths.model(version));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw io(`link ${this.paths.model(version)}`, error);
        version++;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    }
    await fsyncDir(this.paths.modelsDir);
    await this.#replace(this.paths.metrics(version), `${JSON.stringify(metricsFor(version), null, 2)}\n`);
    return version;
  }

  /** Points production at a registered version (promotion and rollback alike). */
  async setCurrent(version: number, reason: string): Promise<{ previous: number | undefined }> {
    if (!(await this.versions()).includes(version)) {
      throw new TrainerError(
        TrainerErrorCode.VERSION_NOT_FOUND,
        `model v${version} is not registered (no ${this.paths.model(version)})`,
      );
    }
    const previous = await this.current().catch(() => undefined);
    await this.#replace(this.paths.pointer, `${version}\n`);
    await mkdir(this.paths.artifactsDir, { recursive: true });
    await appendFile(
      join(this.paths.artifactsDir, 'pointer_history.jsonl'),
      `${JSON.stringify({ at: this.#now().toISOString(), from: previous ?? null, to: version, reason })}\n`,
    );
    return { previous };
  }

  /** The metrics file of a version, parsed; undefined when it has none. */
  async metrics(version: number): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.paths.metrics(version), 'utf8')) as unknown;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TrainerError(
        TrainerErrorCode.REGISTRY_INVALID,
        `cannot read ${this.paths.metrics(version)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async #replace(path: string, content: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temp = await writeTemp(path, new TextEncoder().encode(content));
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw io(`rename ${temp} to ${path}`, error);
    }
    await fsyncDir(dirname(path));
  }
}

/** Writes and fsyncs a temporary file next to `path` (same filesystem, so link/rename are atomic). */
async function writeTemp(path: string, bytes: Uint8Array): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw io(`write ${temp}`, error);
  }
  return temp;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function versionsIn(dir: string, pattern: RegExp): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw io(`list ${dir}`, error);
  }
  const out: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) out.push(Number(match[1]));
  }
  return out;
}

function io(what: string, cause: unknown): TrainerError {
  return new TrainerError(
    TrainerErrorCode.REGISTRY_INVALID,
    `model registry: cannot ${what}: ${(cause as Error).message}`,
    {
      cause,
    },
  );
}
