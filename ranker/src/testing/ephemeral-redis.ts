import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '@searchop/stack/testing';
import { waitFor } from '@searchop/runtime/testing';

/**
 * A redis-server of the test's own, on a free port, that the test may stop, freeze and start again
 * (the shared one must never be): for the ranker's degradation under a Redis outage. Data is kept in
 * memory only, so a restart comes back empty unless the test rewrites it.
 */
export class EphemeralRedis {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#dir = dir;
  }

  static async start(): Promise<EphemeralRedis> {
    const redis = new EphemeralRedis(await freePort(), await mkdtemp(join(tmpdir(), 'ranker-redis-')));
    await redis.restart();
    return redis;
  }

  /** Starts the server (again) on the same port and waits until it answers. */
  async restart(): Promise<void> {
    if (this.#process) return;
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.#dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.#process = child;
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    await waitFor(
      async () => {
        const probe = new Redis({
          port: this.port,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { what: `redis-server on port ${this.port}` },
    );
  }

  /** Stops the server (SIGTERM) and waits for the process to exit: connections are refused from then on. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered — a slow Redis. */
  freeze(): void {
    this.#process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#process?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
