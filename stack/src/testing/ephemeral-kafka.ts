import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runningPid, stopDaemon } from '../daemon.ts';
import { kafkaService } from '../services/kafka.ts';
import { loadStackSettings } from '../settings.ts';
import { waitUntilReady } from '../stack.ts';

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface EphemeralKafka {
  readonly brokers: string;
  /** Stops the broker: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same ports and data, waiting until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A Kafka broker of a test's own, on free ports and a temporary data dir, for tests that stop or
 * kill the broker (outages, restarts) without disturbing the shared one. About 10 s to start.
 */
export async function startEphemeralKafka(): Promise<EphemeralKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'searchop-kafka-'));
  const settings = loadStackSettings({
    ...process.env,
    STACK_DIR: dir,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_HEAP: '384m',
  });
  const service = kafkaService(settings);
  await service.prepare();
  const start = async () => {
    await service.start();
    await waitUntilReady(service, 120_000);
    await service.warmUp?.();
  };
  await start();
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const pid = runningPid(service.pidFile);
    if (pid !== undefined && signal === 'SIGKILL') process.kill(pid, 'SIGKILL');
    await stopDaemon(service.pidFile);
  };
  return {
    brokers: settings.kafkaBrokers,
    stop,
    start,
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
