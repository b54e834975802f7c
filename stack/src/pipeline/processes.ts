import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StackError, StackErrorCode } from '../errors.ts';

/** A service the pipeline runs as its own process, as it would run in production. */
export interface RunningService {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  alive(): boolean;
  stop(): Promise<void>;
}

export function startProcess(
  name: string,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  logFile: string,
): RunningService {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return {
    name,
    logFile,
    child,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a command to completion, passing its output through with a prefix (progress stays visible),
 * and returns its standard output; fails with the command's last lines when it exits non-zero.
 */
export async function runCommand(
  name: string,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  logFile: string,
  /** Exit codes that are outcomes rather than failures (the trainer's 3: registered, not promoted). */
  okExitCodes: readonly number[] = [0],
): Promise<string> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let tail = '';
  const show = (chunk: Buffer, keep: boolean) => {
    const text = chunk.toString();
    log.write(text);
    if (keep) stdout += text;
    tail = (tail + text).slice(-4_000);
    for (const line of text.split('\n'))
      if (line.trim() !== '' && !line.startsWith('{"level"')) process.stdout.write(`  [${name}] ${line}\n`);
  };
  child.stdout?.on('data', (c: Buffer) => show(c, true));
  child.stderr?.on('data', (c: Buffer) => show(c, false));
  const [code] = (await once(child, 'exit')) as [number | null];
  log.end();
  if (code === null || !okExitCodes.includes(code))
    throw new StackError(StackErrorCode.START_FAILED, `${name} exited with ${code}; log ${logFile}:\n${tail}`);
  return stdout;
}

/** Polls an HTTP URL until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs: number, service?: RunningService): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service && !service.alive())
      throw new StackError(StackErrorCode.START_FAILED, `${service.name} exited; see ${service.logFile}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StackError(StackErrorCode.START_FAILED, `${url} did not answer within ${timeoutMs / 1000} s`);
}
