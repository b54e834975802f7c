import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { findJava, requireMaven } from '../jvm.ts';
import { runStep, serviceDir, type StackService } from '../service.ts';
import { repoRoot, type StackSettings } from '../settings.ts';

const registryHome = join(repoRoot, 'stack', 'schema-registry');
const runJar = join(registryHome, 'target', 'quarkus-app', 'quarkus-run.jar');

/**
 * Apicurio Registry 3.3 (its Confluent-compatible API under /apis/ccompat/v7), from the prebuilt
 * distribution on Maven Central (stack/schema-registry/pom.xml), storing schemas in an H2 file so
 * that ids survive restarts. It needs Java 21+.
 */
export function schemaRegistryService(settings: StackSettings): StackService {
  const dir = serviceDir(settings, 'schema-registry');
  let java = 'java';
  return {
    name: 'schema-registry',
    endpoint: settings.schemaRegistryUrl,
    ports: [
      { port: settings.SCHEMA_REGISTRY_PORT, variable: 'SCHEMA_REGISTRY_PORT' },
      { port: settings.SCHEMA_REGISTRY_MANAGEMENT_PORT, variable: 'SCHEMA_REGISTRY_MANAGEMENT_PORT' },
    ],
    pidFile: dir.pidFile,
    logFile: dir.logFile,
    async prepare() {
      java = findJava('schema-registry', 21, join(settings.STACK_DIR, 'tools'));
      if (!existsSync(runJar)) {
        requireMaven('schema-registry');
        console.log(
          'schema-registry: fetching Apicurio Registry 3.3 from Maven Central (about 160 MB, cached in ~/.m2 afterwards)',
        );
        runStep('fetching Apicurio Registry', 'mvn', ['-q', '-B', '-f', join(registryHome, 'pom.xml'), 'package']);
        if (!existsSync(runJar))
          throw new StackError(
            StackErrorCode.INSTALL_FAILED,
            `schema-registry: Maven finished but ${runJar} is missing`,
          );
      }
    },
    async start() {
      mkdirSync(dir.data, { recursive: true });
      const host = settings.STACK_HOST;
      startDaemon({
        name: 'schema-registry',
        command: java,
        args: [
          '-Xms32m',
          `-Xmx${settings.SCHEMA_REGISTRY_HEAP}`,
          '-XX:MaxMetaspaceSize=192m',
          '-XX:+UseSerialGC',
          '-XX:+ExitOnOutOfMemoryError',
          `-Dquarkus.http.host=${host}`,
          `-Dquarkus.http.port=${settings.SCHEMA_REGISTRY_PORT}`,
          `-Dquarkus.management.host=${host}`,
          `-Dquarkus.management.port=${settings.SCHEMA_REGISTRY_MANAGEMENT_PORT}`,
          '-Dquarkus.http.access-log.enabled=false',
          `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir.data, 'registry')}`,
          '-Dapicurio.datasource.jdbc.initial-size=2',
          '-Dapicurio.datasource.jdbc.min-size=2',
          '-Dapicurio.datasource.jdbc.max-size=10',
          `-Dapicurio.storage.snapshot.location=${dir.data}`,
          `-Dapicurio.import.work-dir=${dir.data}`,
          '-jar',
          runJar,
        ],
        pidFile: dir.pidFile,
        logFile: dir.logFile,
      });
    },
    async ready() {
      // A real request on the Confluent-compatible API, as clients will make it.
      try {
        const response = await fetch(`${settings.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(2_000) });
        return response.ok && Array.isArray(await response.json());
      } catch {
        return false;
      }
    },
  };
}
