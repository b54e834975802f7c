import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readConfigFile, type KafkaEnv } from './config.ts';
import type { Logger } from './logger.ts';

/** kafkajs client from the shared KAFKA_* settings; TLS and SASL/SCRAM as MSK and Confluent Cloud use. */
export function createKafka(
  env: Omit<KafkaEnv, 'TOPIC_NAME_SUFFIX'>,
  logger: Logger,
  clientId: string = env.KAFKA_CLIENT_ID,
): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: env.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
  };
  if (env.KAFKA_SSL) {
    config.ssl = env.KAFKA_SSL_CA_FILE ? { ca: [readConfigFile('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE)] } : true;
  }
  const sasl = saslOptions(env);
  if (sasl) config.sasl = sasl;
  return new Kafka(config);
}

function saslOptions(env: Omit<KafkaEnv, 'TOPIC_NAME_SUFFIX'>): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (mechanism === undefined || username === undefined || password === undefined) return undefined;
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

const pinoLevel = {
  [logLevel.NOTHING]: 'silent',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
} as const;

/** Routes kafkajs' own logging into the service's pino logger instead of its console format. */
export function kafkaLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      const method = pinoLevel[level];
      if (method !== 'silent') kafkaLogger[method](extra, message);
    };
}
