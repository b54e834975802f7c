import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startDaemon, which } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { runStep, serviceDir, type StackService } from '../service.ts';
import type { StackSettings } from '../settings.ts';

/** Redis 7 from Debian's redis-server, with an append-only file so a restart keeps the features. */
export function redisService(settings: StackSettings): StackService {
  const dir = serviceDir(settings, 'redis');
  return {
    name: 'redis',
    endpoint: settings.redisUrl,
    ports: [{ port: settings.REDIS_PORT, variable: 'REDIS_PORT' }],
    pidFile: dir.pidFile,
    logFile: dir.logFile,
    async prepare() {
      if (which('redis-server')) return;
      if (!which('apt-get')) {
        throw new StackError(
          StackErrorCode.PREREQUISITE_MISSING,
          'redis: redis-server is not installed and apt-get is not available; install Redis 7 (Debian package redis-server)',
        );
      }
      if (process.getuid?.() !== 0) {
        throw new StackError(
          StackErrorCode.PREREQUISITE_MISSING,
          'redis: redis-server is not installed; run: sudo apt-get install -y redis-server',
        );
      }
      console.log('redis: installing Debian package redis-server');
      runStep('apt-get update', 'apt-get', ['update', '-qq']);
      runStep('apt-get install redis-server', 'apt-get', ['install', '-y', '-qq', 'redis-server', 'redis-tools']);
    },
    async start() {
      mkdirSync(dir.data, { recursive: true });
      startRedisServer({
        name: 'redis',
        host: settings.STACK_HOST,
        port: settings.REDIS_PORT,
        dir: dir.data,
        pidFile: dir.pidFile,
        logFile: dir.logFile,
        options: [
          '--appendonly',
          'yes',
          '--maxmemory',
          settings.REDIS_MAXMEMORY,
          '--maxmemory-policy',
          'noeviction',
          '--protected-mode',
          'yes',
        ],
      });
    },
    ready: () => redisAnswers(settings.REDIS_PORT, settings.STACK_HOST),
  };
}

/**
 * Starts Debian's redis-server as a daemon on host:port with its files in `dir`, no RDB snapshots
 * and `options` (persistence, cluster mode, memory limits) appended.
 */
export function startRedisServer(spec: {
  name: string;
  host?: string;
  port: number;
  dir: string;
  pidFile: string;
  logFile: string;
  options: string[];
}): number {
  const { host = '127.0.0.1', port, dir, options, ...daemon } = spec;
  return startDaemon({
    ...daemon,
    command: 'redis-server',
    args: ['--bind', host, '--port', String(port), '--dir', dir, '--save', '', '--daemonize', 'no', ...options],
  });
}

/**
 * Whether a redis-server answers PING on host:port, asked once by a client of its own that neither
 * retries nor reconnects (PING answers LOADING, so false, while the append-only file is replayed).
 */
export async function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return redisUrlAnswers(`redis://${host}:${port}`);
}

/** The same check for a Redis given by URL (redis:// or rediss://, credentials included). */
export async function redisUrlAnswers(url: string, connectTimeout = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
