import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { StackError, StackErrorCode } from './errors.ts';
import type { StackSettings } from './settings.ts';

/** One service of the local stack. The launcher (stack.ts) owns ordering, idempotence and waiting. */
export interface StackService {
  readonly name: string;
  /** What clients use to reach it, printed by `up` and `status`. */
  readonly endpoint: string;
  readonly ports: readonly { readonly port: number; readonly variable: string }[];
  readonly pidFile: string;
  readonly logFile: string;
  /** Checks prerequisites and installs or builds what is missing; cached, so fast the second time. */
  prepare(): Promise<void>;
  /** Starts the process detached; returns once it is spawned. */
  start(): Promise<void>;
  /** One real request (metadata, HTTP GET, PING): true when the service answers it correctly. */
  ready(): Promise<boolean>;
  /** Optional first use after a start (internal topics, caches), so that clients meet no start-up errors. */
  warmUp?(): Promise<void>;
}

export function serviceDir(settings: StackSettings, name: string) {
  const root = join(settings.STACK_DIR, name);
  return { root, data: join(root, 'data'), pidFile: join(root, `${name}.pid`), logFile: join(root, `${name}.log`) };
}

/** Runs an install/build step to completion, failing with its output when it fails. */
export function runStep(description: string, command: string, args: readonly string[], cwd?: string): void {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new StackError(
      StackErrorCode.INSTALL_FAILED,
      `${description} failed (${command} ${args.join(' ')}): ${result.error?.message ?? `exit ${result.status}`}\n${output}`,
      { cause: result.error },
    );
  }
}
