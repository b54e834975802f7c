import { assertPortFree, lastLines, runningPid, sleep, stopDaemon } from './daemon.ts';
import { StackError, StackErrorCode } from './errors.ts';
import type { StackService } from './service.ts';
import { kafkaService } from './services/kafka.ts';
import { redisService } from './services/redis.ts';
import { schemaRegistryService } from './services/schema-registry.ts';
import type { StackSettings } from './settings.ts';

export interface StackEndpoints {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
}

/** The services in start order: the registry does not depend on Kafka (it stores schemas itself). */
export function stackServices(settings: StackSettings): StackService[] {
  return [redisService(settings), kafkaService(settings), schemaRegistryService(settings)];
}

export type StackLog = (line: string) => void;

/**
 * Starts every service that is not already running and waits until each answers a real request.
 * Idempotent: services already running (by their pid files) are only checked. Returns the names of
 * the services this call started, so that a caller (the test harness) can stop only those.
 */
export async function stackUp(settings: StackSettings, log: StackLog = console.log): Promise<string[]> {
  const services = stackServices(settings);
  const toStart: StackService[] = [];
  for (const service of services) {
    if (runningPid(service.pidFile) !== undefined) {
      log(`${service.name}: already running (${service.endpoint})`);
      continue;
    }
    for (const { port, variable } of service.ports)
      await assertPortFree(service.name, settings.STACK_HOST, port, variable);
    toStart.push(service);
  }
  // Installs run one after the other (they share ~/.m2 and apt locks); the JVMs then start together.
  for (const service of toStart) {
    const began = Date.now();
    await service.prepare();
    const took = Date.now() - began;
    if (took > 1_000) log(`${service.name}: prepared in ${(took / 1000).toFixed(1)} s`);
  }
  await Promise.all(
    toStart.map(async (service) => {
      const began = Date.now();
      await service.start();
      log(`${service.name}: starting, log ${service.logFile}`);
      await waitUntilReady(service, settings.STACK_START_TIMEOUT * 1000);
      await service.warmUp?.();
      log(`${service.name}: ready in ${((Date.now() - began) / 1000).toFixed(1)} s (${service.endpoint})`);
    }),
  );
  for (const service of services.filter((s) => !toStart.includes(s))) {
    await waitUntilReady(service, 30_000);
  }
  return toStart.map((s) => s.name);
}

export async function waitUntilReady(service: StackService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await service.ready()) return;
    if (runningPid(service.pidFile) === undefined) {
      throw new StackError(
        StackErrorCode.START_FAILED,
        `${service.name} exited while starting; last lines of ${service.logFile}:\n${lastLines(service.logFile)}`,
      );
    }
    await sleep(250);
  }
  throw new StackError(
    StackErrorCode.START_FAILED,
    `${service.name} did not answer within ${timeoutMs / 1000} s; last lines of ${service.logFile}:\n${lastLines(service.logFile)}`,
  );
}

/** Stops the named services (all by default) in reverse start order. */
export async function stackDown(
  settings: StackSettings,
  only?: readonly string[],
  log: StackLog = console.log,
): Promise<void> {
  const services = stackServices(settings).filter((s) => only === undefined || only.includes(s.name));
  for (const service of services.reverse()) {
    const stopped = await stopDaemon(service.pidFile);
    log(`${service.name}: ${stopped ? 'stopped' : 'not running'}`);
  }
}

export interface ServiceStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly ready: boolean;
  readonly endpoint: string;
  readonly logFile: string;
}

export async function stackStatus(settings: StackSettings): Promise<ServiceStatus[]> {
  return Promise.all(
    stackServices(settings).map(async (s) => {
      const pid = runningPid(s.pidFile);
      return {
        name: s.name,
        pid,
        ready: pid !== undefined && (await s.ready()),
        endpoint: s.endpoint,
        logFile: s.logFile,
      };
    }),
  );
}

export function endpointsOf(settings: StackSettings): StackEndpoints {
  return {
    kafkaBrokers: settings.kafkaBrokers,
    schemaRegistryUrl: settings.schemaRegistryUrl,
    redisUrl: settings.redisUrl,
  };
}
