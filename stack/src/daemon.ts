import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { StackError, StackErrorCode } from './errors.ts';

/** A long-running process started detached, tracked by a pid file, logging to a file. */
export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly pidFile: string;
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const out = openSync(spec.logFile, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) {
    throw new StackError(StackErrorCode.START_FAILED, `${spec.name}: could not spawn ${spec.command}`);
  }
  child.unref();
  writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM, then SIGKILL if the process is still alive after `graceMs`. */
export async function stopDaemon(pidFile: string, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && runningPid(pidFile) !== undefined) await sleep(100);
  if (runningPid(pidFile) !== undefined) process.kill(pid, 'SIGKILL');
  while (runningPid(pidFile) !== undefined) await sleep(50);
  rmSync(pidFile, { force: true });
  return true;
}

export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Fails with a clear error when a port we are about to bind is held by someone else. */
export async function assertPortFree(service: string, host: string, port: number, variable: string): Promise<void> {
  if (await isPortOpen(host, port)) {
    throw new StackError(
      StackErrorCode.PORT_TAKEN,
      `${service}: port ${host}:${port} is taken by a process this stack did not start; stop it or set ${variable} to a free port`,
    );
  }
}

export function which(program: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

export function lastLines(file: string, count = 30): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').split('\n').slice(-count).join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolvePromise) => setTimeout(resolvePromise, ms));
