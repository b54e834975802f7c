import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopDaemon, which } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { redisAnswers, startRedisServer } from '../services/redis.ts';
import { freePort } from './ephemeral-kafka.ts';
import { waitFor } from '@searchop/runtime/testing';

export interface EphemeralRedisCluster {
  /** Seed nodes as host:port, for REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  destroy(): Promise<void>;
}

/**
 * A real three-master Redis Cluster from Debian's redis-server on free ports (no replicas), for
 * tests that must show the key layout and scripts work across slots. About a second to start.
 */
export async function startRedisCluster(masters = 3): Promise<EphemeralRedisCluster> {
  if (!which('redis-server') || !which('redis-cli')) {
    throw new StackError(
      StackErrorCode.PREREQUISITE_MISSING,
      'redis-server and redis-cli are needed (Debian packages redis-server, redis-tools)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'searchop-redis-cluster-'));
  const ports: number[] = [];
  const pidFiles: string[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    const pidFile = join(nodeDir, 'redis.pid');
    startRedisServer({
      name: `redis-cluster-${port}`,
      port,
      dir: nodeDir,
      pidFile,
      logFile: join(nodeDir, 'redis.log'),
      options: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no'],
    });
    ports.push(port);
    pidFiles.push(pidFile);
  }
  const destroy = async () => {
    for (const pidFile of pidFiles) await stopDaemon(pidFile, 5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await waitFor(() => redisAnswers(port), { what: `redis cluster node ${port}` });
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (created.status !== 0)
      throw new StackError(
        StackErrorCode.START_FAILED,
        `redis-cli --cluster create failed: ${created.stdout}${created.stderr}`,
      );
    const probe = new Redis({ port: ports[0]! });
    try {
      await waitFor(async () => (await probe.cluster('INFO')).includes('cluster_state:ok'), {
        what: 'cluster_state:ok',
      });
    } finally {
      probe.disconnect();
    }
    return { nodes, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
