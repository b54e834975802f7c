import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '@searchop/runtime/testing';
import { runningPid, startDaemon, stopDaemon, which } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { freePort } from './ephemeral-kafka.ts';

export interface EphemeralRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data (the append-only file), waiting until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A single Redis of a test's own (Debian's redis-server) on a free port, for tests that kill or
 * restart Redis without disturbing the shared one. Persistence is the append-only file with an
 * fsync before every reply (appendfsync always), the setting under which an acknowledged write
 * survives a crash of the server: what the feature processor's exactly-once guarantee needs.
 */
export async function startEphemeralRedis(): Promise<EphemeralRedis> {
  if (!which('redis-server')) {
    throw new StackError(StackErrorCode.PREREQUISITE_MISSING, 'redis-server is needed (Debian package redis-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'searchop-redis-'));
  const port = await freePort();
  const pidFile = join(dir, 'redis.pid');
  const start = async () => {
    startDaemon({
      name: `redis-${port}`,
      command: 'redis-server',
      args: [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
      ],
      pidFile,
      logFile: join(dir, 'redis.log'),
    });
    await waitFor(
      async () => {
        const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          // PING answers LOADING while the append-only file is replayed.
          return (await client.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          client.disconnect();
        }
      },
      { what: `redis ${port}`, timeoutMs: 60_000 },
    );
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const pid = runningPid(pidFile);
    if (pid !== undefined && signal === 'SIGKILL') process.kill(pid, 'SIGKILL');
    await stopDaemon(pidFile, 10_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
