import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@searchop/runtime/testing';
import { freePort } from './ephemeral-kafka.ts';

/**
 * Prometheus and the Pushgateway from Debian (`apt-get install prometheus prometheus-pushgateway`),
 * started as child processes on free ports for one test and killed by it. `.ci/run` installs both.
 */
export const PROMETHEUS_BIN = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';
export const PUSHGATEWAY_BIN = process.env['PUSHGATEWAY_BIN'] ?? '/usr/bin/prometheus-pushgateway';
export const PROMTOOL_BIN = process.env['PROMTOOL_BIN'] ?? '/usr/bin/promtool';

export interface PromProcess {
  readonly url: string;
  /** Everything it printed (for a failing test's message). */
  output(): string;
  stop(): Promise<void>;
}

function requireBinary(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install ${pkg} (or set its *_BIN variable)`);
}

async function startBinary(
  bin: string,
  args: (port: number) => string[],
  ready: string,
  cleanup: () => Promise<void>,
): Promise<PromProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(bin, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup();
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}: ${output}`);
        return (await fetch(`${url}${ready}`, { signal: AbortSignal.timeout(1_000) })).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${bin} on ${url}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: () => output, stop };
}

/** A Pushgateway with no persistence, on a free port. */
export async function startPushgateway(): Promise<PromProcess> {
  requireBinary(PUSHGATEWAY_BIN, 'prometheus-pushgateway');
  return startBinary(
    PUSHGATEWAY_BIN,
    (port) => [`--web.listen-address=127.0.0.1:${port}`],
    '/-/ready',
    async () => {},
  );
}

/** Prometheus on a free port with the given configuration (YAML text), its data in a temporary directory. */
export async function startPrometheus(config: string): Promise<PromProcess> {
  requireBinary(PROMETHEUS_BIN, 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'searchop-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, config);
  return startBinary(
    PROMETHEUS_BIN,
    (port) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    '/-/ready',
    () => rm(dir, { recursive: true, force: true }),
  );
}

/** One PromQL instant query through the HTTP API; the vector or matrix result as Prometheus returns it. */
export async function queryPrometheus(
  url: string,
  query: string,
): Promise<{ metric: Record<string, string>; value?: [number, string] }[]> {
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query }).toString()}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value?: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}
