import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startDaemon } from '../daemon.ts';
import { StackError, StackErrorCode } from '../errors.ts';
import { findJava, requireMaven } from '../jvm.ts';
import { runStep, serviceDir, type StackService } from '../service.ts';
import { repoRoot, type StackSettings } from '../settings.ts';

const kafkaHome = join(repoRoot, 'stack', 'kafka');
const libDir = join(kafkaHome, 'target', 'lib');

/**
 * Apache Kafka 3.9 in KRaft mode, one combined broker+controller, from Maven Central jars
 * (stack/kafka/pom.xml). Storage is formatted on first start with a fresh cluster id.
 */
export function kafkaService(settings: StackSettings): StackService {
  const dir = serviceDir(settings, 'kafka');
  const propertiesFile = join(dir.root, 'server.properties');
  let java = 'java';
  return {
    name: 'kafka',
    endpoint: settings.kafkaBrokers,
    ports: [
      { port: settings.KAFKA_PORT, variable: 'KAFKA_PORT' },
      { port: settings.KAFKA_CONTROLLER_PORT, variable: 'KAFKA_CONTROLLER_PORT' },
    ],
    pidFile: dir.pidFile,
    logFile: dir.logFile,
    async prepare() {
      java = findJava('kafka', 17, join(settings.STACK_DIR, 'tools'));
      requireMaven('kafka');
      if (!hasKafkaJars()) {
        console.log('kafka: fetching Apache Kafka 3.9 jars from Maven Central (cached in ~/.m2 afterwards)');
        runStep('resolving Kafka jars', 'mvn', ['-q', '-B', '-f', join(kafkaHome, 'pom.xml'), 'package']);
        if (!hasKafkaJars())
          throw new StackError(
            StackErrorCode.INSTALL_FAILED,
            `kafka: Maven finished but no kafka_2.13 jar is in ${libDir}`,
          );
      }
      mkdirSync(dir.root, { recursive: true });
      const template = readFileSync(join(kafkaHome, 'server.properties.template'), 'utf8');
      const properties = fill(template, {
        NODE_ID: '1',
        HOST: settings.STACK_HOST,
        BROKER_PORT: String(settings.KAFKA_PORT),
        CONTROLLER_PORT: String(settings.KAFKA_CONTROLLER_PORT),
        DATA_DIR: dir.data,
      });
      writeFileSync(propertiesFile, properties);
      if (!existsSync(join(dir.data, 'metadata', 'meta.properties'))) {
        const clusterId = runJava(java, ['kafka.tools.StorageTool', 'random-uuid']).trim();
        runStep('formatting Kafka storage', java, [
          ...jvmArgs(dir.root),
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          propertiesFile,
          '--ignore-formatted',
        ]);
      }
    },
    async start() {
      startDaemon({
        name: 'kafka',
        command: java,
        args: [
          ...jvmArgs(dir.root),
          `-Xms${settings.KAFKA_HEAP}`,
          `-Xmx${settings.KAFKA_HEAP}`,
          'kafka.Kafka',
          propertiesFile,
        ],
        pidFile: dir.pidFile,
        logFile: dir.logFile,
      });
    },
    async warmUp() {
      // The first group join and the first transaction on a fresh cluster create the internal
      // topics and meet "coordinator is loading" errors; do both once here instead of in a client.
      // On a loaded machine the coordinator can take longer than kafkajs's default retry budget
      // (~10 s; seen as NOT_COORDINATOR_FOR_GROUP from describeGroups): allow about a minute.
      const kafka = new Kafka({
        clientId: 'searchop-stack',
        brokers: [settings.kafkaBrokers],
        logLevel: logLevel.NOTHING,
        retry: { retries: 12, maxRetryTime: 10_000 },
      });
      const admin = kafka.admin();
      const producer = kafka.producer({
        transactionalId: 'searchop-stack-warm-up',
        maxInFlightRequests: 1,
        idempotent: true,
      });
      try {
        await admin.connect();
        await admin.describeGroups(['searchop-stack-warm-up']);
        await producer.connect();
        const transaction = await producer.transaction();
        await transaction.abort();
      } finally {
        await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
      }
    },
    async ready() {
      // A real metadata request through the same client the services use.
      const admin = new Kafka({
        clientId: 'searchop-stack',
        brokers: [settings.kafkaBrokers],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1_000,
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      } catch {
        return false;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}

function hasKafkaJars(): boolean {
  return existsSync(libDir) && readdirSync(libDir).some((f) => /^kafka_2\.13-3\.9\.\d+\.jar$/.test(f));
}

function jvmArgs(root: string): string[] {
  const logsDir = join(root, 'logs');
  mkdirSync(logsDir, { recursive: true });
  return [
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${logsDir}`,
    `-Dlog4j.configuration=file:${join(kafkaHome, 'log4j.properties')}`,
    '-cp',
    `${libDir}/*`,
  ];
}

function runJava(java: string, args: string[]): string {
  const result = spawnSync(java, ['-cp', `${libDir}/*`, ...args], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new StackError(StackErrorCode.INSTALL_FAILED, `kafka: ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Fills ${NAME} placeholders; a placeholder left unfilled is a bug in the template or here. */
export function fill(template: string, values: Record<string, string>): string {
  const filled = template.replace(/\$\{([A-Z_]+)\}/g, (match, name: string) => values[name] ?? match);
  const left = /\$\{[A-Z_]+\}/.exec(filled);
  if (left)
    throw new StackError(
      StackErrorCode.CONFIG_INVALID,
      `kafka: server.properties.template has an unfilled placeholder ${left[0]}`,
    );
  return filled;
}
