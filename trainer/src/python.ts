import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrainerError, TrainerErrorCode } from './errors.ts';

/**
 * The boundary with the trainer's Python side (trainer/python): one virtualenv, created by
 * trainer/python/setup-venv.sh from pinned requirements, and `python -m searchop_trainer.<module>`
 * runs. A Python CLI prints its result as one JSON line on stdout; on an expected failure it exits
 * with 2 and prints {"error": {"code", "message"}} as the last stderr line, which becomes a
 * TrainerError with that code. Anything else that fails is TRN_PYTHON_FAILED.
 */

const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));
export const SETUP_SCRIPT = join(PYTHON_DIR, 'setup-venv.sh');
export const DEFAULT_VENV_DIR = fileURLToPath(new URL('../../.venv', import.meta.url));

/** Exit status of a Python CLI that failed with a typed error (searchop_trainer/errors.py). */
const TYPED_FAILURE_EXIT = 2;
/** Kept of each stream: enough for any result line and the end of a traceback. */
const MAX_CAPTURED_CHARS = 1 << 20;
const KILL_GRACE_MS = 5_000;

/** The codes a Python CLI may print (searchop_trainer/errors.py ErrorCode); others are not trusted. */
export const PYTHON_ERROR_CODES: ReadonlySet<string> = new Set([
  TrainerErrorCode.CONFIG_INVALID,
  TrainerErrorCode.DATA_INVALID,
  TrainerErrorCode.SPLIT_EMPTY,
  TrainerErrorCode.MODEL_INVALID,
  TrainerErrorCode.MODEL_UNSUPPORTED,
  TrainerErrorCode.FEATURES_MISMATCH,
  TrainerErrorCode.EXPORT_PARITY,
]);

export interface PythonEnv {
  readonly python: string;
  readonly venvDir: string;
}

export interface PythonEnvOptions {
  /** Where the virtualenv lives; default <repo>/.venv (git-ignored). */
  readonly venvDir?: string;
  /** Receives setup-venv.sh's progress lines (creating, installing: the first run takes ~30 s). */
  readonly onLine?: (line: string) => void;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Kills the run (SIGTERM, then SIGKILL) after this long; TRN_PYTHON_FAILED, retriable. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Receives stderr line by line as the run goes (LightGBM and pip write progress there). */
  readonly onStderrLine?: (line: string) => void;
}

export interface PythonRun {
  readonly stdout: string;
  readonly stderr: string;
  /** The last stdout line parsed as JSON (the CLI's result), undefined when it is not JSON. */
  readonly result: unknown;
}

interface ProcessOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const ready = new Map<string, Promise<PythonEnv>>();

/**
 * The virtualenv's interpreter, after setup-venv.sh made sure the environment matches the pinned
 * requirements (a no-op taking a fraction of a second when it does). Memoised per directory.
 */
export function ensurePythonEnv(options: PythonEnvOptions = {}): Promise<PythonEnv> {
  const venvDir = options.venvDir ?? DEFAULT_VENV_DIR;
  let pending = ready.get(venvDir);
  if (pending === undefined) {
    pending = setUp(venvDir, options.onLine);
    ready.set(venvDir, pending);
    pending.catch(() => ready.delete(venvDir));
  }
  return pending;
}

async function setUp(venvDir: string, onLine: ((line: string) => void) | undefined): Promise<PythonEnv> {
  const outcome = await runProcess('bash', [SETUP_SCRIPT, venvDir], { ...(onLine ? { onStderrLine: onLine } : {}) });
  if (outcome.code !== 0) {
    throw new TrainerError(
      TrainerErrorCode.PYTHON_FAILED,
      `setting up the Python environment failed (${SETUP_SCRIPT}): ${tail(outcome.stderr)}`,
    );
  }
  return { python: join(venvDir, 'bin', 'python'), venvDir };
}

/** Runs `python -m <module> ...args` in the environment; resolves on exit 0. */
export async function runPythonModule(
  env: PythonEnv,
  module: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<PythonRun> {
  const outcome = await runProcess(env.python, ['-m', module, ...args], options);
  if (outcome.code === 0) {
    return { stdout: outcome.stdout, stderr: outcome.stderr, result: lastJsonLine(outcome.stdout) };
  }
  throw failureOf(module, outcome, options.timeoutMs);
}

/** The TrainerError for a failed run: the CLI's own typed error when it printed one. */
export function failureOf(
  module: string,
  outcome: Pick<ProcessOutcome, 'code' | 'signal' | 'stderr' | 'timedOut'>,
  timeoutMs?: number,
): TrainerError {
  if (outcome.timedOut) {
    return new TrainerError(
      TrainerErrorCode.PYTHON_FAILED,
      `python -m ${module} did not finish within ${timeoutMs ?? 0} ms and was killed`,
      { retriable: true },
    );
  }
  if (outcome.code === TYPED_FAILURE_EXIT) {
    const typed = typedError(outcome.stderr);
    if (typed) return typed;
  }
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with ${String(outcome.code)}`;
  return new TrainerError(TrainerErrorCode.PYTHON_FAILED, `python -m ${module} ${how}: ${tail(outcome.stderr)}`);
}

function typedError(stderr: string): TrainerError | undefined {
  const parsed = lastJsonLine(stderr);
  if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return undefined;
  const error = parsed.error;
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return undefined;
  const { code, message } = error;
  if (typeof code !== 'string' || typeof message !== 'string' || !PYTHON_ERROR_CODES.has(code)) return undefined;
  return new TrainerError(code as TrainerErrorCode, message);
}

function lastJsonLine(text: string): unknown {
  const line = text.trimEnd().split('\n').at(-1);
  if (line === undefined || line === '') return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function tail(text: string, lines = 20): string {
  const kept = text.trimEnd().split('\n').slice(-lines).join('\n');
  return kept === '' ? '(no output)' : kept;
}

function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new TrainerError(TrainerErrorCode.PYTHON_FAILED, `${command} was aborted before it started`));
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    let partialLine = '';
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          }, options.timeoutMs);

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout = (stdout + chunk).slice(-MAX_CAPTURED_CHARS);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_CAPTURED_CHARS);
      if (options.onStderrLine) {
        const lines = (partialLine + chunk).split('\n');
        partialLine = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      clearTimeout(killer);
      reject(
        new TrainerError(TrainerErrorCode.PYTHON_FAILED, `cannot run ${command}: ${error.message}`, { cause: error }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      if (options.onStderrLine && partialLine !== '') options.onStderrLine(partialLine);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
