import { createRequire } from 'node:module';
import {
  Kafka,
  Partitioners,
  logLevel,
  type ISocketFactory,
  type KafkaConfig,
  type LogEntry,
  type ProducerConfig,
  type SASLOptions,
} from 'kafkajs';
import { readConfigFile, type KafkaEnv } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * The kafkajs client with one SearchOp default: producers partition with the Java-compatible murmur2
 * partitioner (kafkajs v2's DefaultPartitioner), so a key lands on the partition Kafka Streams or a Java
 * client would pick. Naming it here, once, is also what keeps kafkajs from warning at every start that
 * its default changed in v2; a producer may still choose another partitioner.
 */
export class SearchOpKafka extends Kafka {
  override producer(config: ProducerConfig = {}) {
    return super.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  }
}

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
    socketFactory: noDelaySocketFactory(),
  };
  if (env.KAFKA_SSL) {
    config.ssl = env.KAFKA_SSL_CA_FILE ? { ca: [readConfigFile('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE)] } : true;
  }
  const sasl = saslOptions(env);
  if (sasl) config.sasl = sasl;
  return new SearchOpKafka(config);
}

/**
 * kafkajs's own socket factory (TCP or TLS, keep-alive) with Nagle's algorithm turned off, which
 * kafkajs leaves on: a request of many segments ends in a short one that Nagle holds until the broker
 * has ACKed the rest, and the broker's delayed ACK can put that off by up to ~40 ms — paid on every
 * request by a producer that waits for each acks=all answer before sending the next batch.
 */
export function noDelaySocketFactory(): ISocketFactory {
  const kafkajsSocketFactory = createRequire(import.meta.url)(
    'kafkajs/src/network/socketFactory',
  ) as () => ISocketFactory;
  const base = kafkajsSocketFactory();
  return (args) => base(args).setNoDelay(true);
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

/**
 * kafkajs warns this whenever an idempotent producer has fewer than Number.MAX_SAFE_INTEGER retries.
 * SearchOp's producers bound retries on purpose (an outage must surface: the collector answers 503
 * instead of hanging), and each of them replaces its producer after a send that ran out of retries
 * (StorefrontClient, the ranker's feature-log sink). The hazard the warning is about, a new batch
 * reusing the sequence numbers of a batch the broker may have written, needs that old producer id
 * and so cannot arise. Logged at debug rather than on every start.
 */
const LIMITED_IDEMPOTENT_RETRIES = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** Routes kafkajs' own logging into the service's pino logger instead of its console format. */
export function kafkaLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      const method = message === LIMITED_IDEMPOTENT_RETRIES ? 'debug' : pinoLevel[level];
      if (method !== 'silent') kafkaLogger[method](extra, message);
    };
}
