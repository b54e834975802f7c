import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@searchop/runtime/testing';
import { runningPid, stopDaemon, which } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { redisAnswers, startRedisServer } from '../services/redis.ts';
import { freePort } from './ephemeral-kafka.ts';

export interface EphemeralRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again (a no-op while it runs) on the same port and data, waiting until it answers. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered — a stalled Redis. */
  freeze(): void;
  /** Undoes freeze() (SIGCONT). */
  thaw(): void;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A single Redis of a test's own (Debian's redis-server) on a free port, for tests that kill,
 * freeze or restart Redis without disturbing the shared one. By default persistence is the
 * append-only file with an fsync before every reply (appendfsync always), the setting under which
 * an acknowledged write survives a crash of the server: what the feature processor's exactly-once
 * guarantee needs. `{ persistence: 'none' }` keeps data in memory only: a restart comes back empty.
 */
export async function startEphemeralRedis({
  persistence = 'fsync-always',
}: { persistence?: 'fsync-always' | 'none' } = {}): Promise<EphemeralRedis> {
  if (!which('redis-server')) {
    throw new StackError(StackErrorCode.PREREQUISITE_MISSING, 'redis-server is needed (Debian package redis-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'searchop-redis-'));
  const port = await freePort();
  const pidFile = join(dir, 'redis.pid');
  const signal = (name: NodeJS.Signals) => {
    const pid = runningPid(pidFile);
    if (pid !== undefined) process.kill(pid, name);
  };
  const start = async () => {
    if (runningPid(pidFile) !== undefined) return;
    startRedisServer({
      name: `redis-${port}`,
      port,
      dir,
      pidFile,
      logFile: join(dir, 'redis.log'),
      options: persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    await waitFor(() => redisAnswers(port), { what: `redis ${port}`, timeoutMs: 60_000 });
  };
  const stop = async (how: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (how === 'SIGKILL') signal('SIGKILL');
    await stopDaemon(pidFile, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
