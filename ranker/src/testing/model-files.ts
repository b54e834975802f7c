import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FEATURE_NAMES, FEATURE_SPEC_VERSION, registryPaths } from '@searchop/schemas';
import { lightGbmText, type LightGbmModel, type TreeNode } from './lightgbm-text.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const venv = process.env['TRAINER_VENV'] ?? join(repoRoot, '.venv');
const python = join(venv, 'bin', 'python');

let ready: Promise<void> | undefined;

/**
 * The trainer's Python environment, with its exporter importable. It is created with the trainer's
 * own setup script when missing (minutes, once); an environment that already imports the exporter
 * is used as it is.
 */
function trainerPython(): Promise<void> {
  ready ??= (async () => {
    const imports = () =>
      run(python, ['-c', 'import searchop_trainer.export_onnx']).then(
        () => true,
        () => false,
      );
    if (existsSync(python) && (await imports())) return;
    await run('bash', [join(repoRoot, 'trainer/python/setup-venv.sh')], { timeout: 900_000 });
    if (!(await imports())) {
      throw new Error(`the trainer's Python environment at ${venv} cannot import searchop_trainer.export_onnx`);
    }
  })();
  return ready;
}

export interface ExportOptions {
  /** Recorded in the model's metadata (default: the ranker's own spec version). */
  readonly specVersion?: string;
  /** Check the export against LightGBM itself (slower; default off). */
  readonly verify?: boolean;
}

/** Writes an ONNX file for a LightGBM model with the trainer's exporter (exact double-precision trees). */
export async function exportOnnx(model: LightGbmModel, out: string, options: ExportOptions = {}): Promise<void> {
  await trainerPython();
  const dir = await mkdtemp(join(tmpdir(), 'ranker-model-'));
  try {
    const text = join(dir, 'model.txt');
    await writeFile(text, lightGbmText(model));
    const args = ['-m', 'searchop_trainer.export_onnx', '--model', text, '--out', out];
    args.push('--spec-version', options.specVersion ?? FEATURE_SPEC_VERSION);
    if (!options.verify) args.push('--no-verify');
    await run(python, args, { maxBuffer: 16 * 1024 * 1024 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A model over the ranker's feature spec: trees that split on spec features by name. */
export function specModel(trees: readonly TreeNode[]): LightGbmModel {
  return { featureNames: FEATURE_NAMES, trees };
}

/** A split on a spec feature by name (test models read like the feature they use). */
export function split(
  feature: string,
  threshold: number,
  left: TreeNode,
  right: TreeNode,
  defaultLeft = true,
): TreeNode {
  const index = FEATURE_NAMES.indexOf(feature);
  if (index < 0) throw new Error(`no feature ${feature} in spec ${FEATURE_SPEC_VERSION}`);
  return { feature: index, threshold, left, right, defaultLeft };
}

export const leaf = (value: number): TreeNode => ({ leaf: value });

/** A model registry on disk, as the trainer publishes to it. */
export class TestRegistry {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<TestRegistry> {
    const root = await mkdtemp(join(tmpdir(), 'ranker-registry-'));
    await mkdir(registryPaths(root).modelsDir, { recursive: true });
    return new TestRegistry(root);
  }

  modelPath(version: number): string {
    return registryPaths(this.root).model(version);
  }

  /** Exports a model as version N (without moving the pointer). */
  async publish(version: number, model: LightGbmModel, options: ExportOptions = {}): Promise<void> {
    await exportOnnx(model, this.modelPath(version), options);
  }

  /** Moves the production pointer, atomically (write, then rename), as the trainer does. */
  async point(version: number | string): Promise<void> {
    const { pointer } = registryPaths(this.root);
    const tmp = `${pointer}.${process.pid}.tmp`;
    await writeFile(tmp, `${version}\n`);
    await rename(tmp, pointer);
  }

  async destroy(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
