import { Writable } from 'node:stream';
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafka } from './kafka.ts';

/** A pino logger at debug whose lines are kept, as { level, msg }. */
function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  return { logger, lines };
}

const env = { KAFKA_BROKERS: ['127.0.0.1:1'], KAFKA_CLIENT_ID: 'kafka-test', KAFKA_SSL: false } as const;

describe('createKafka', () => {
  it('makes producers with the murmur2 partitioner named, so kafkajs has no default to warn about', () => {
    const { logger, lines } = capturingLogger();
    const kafka = createKafka(env as never, logger);
    // Producers are made without connecting: nothing here needs a broker.
    kafka.producer();
    kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner });
    kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    expect(lines.filter((l) => /partitioner/i.test(l.msg))).toEqual([]);
  });

  it("logs kafkajs's warning about bounded idempotent retries at debug, other warnings at warn", () => {
    const { logger, lines } = capturingLogger();
    const kafka = createKafka(env as never, logger);
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } });
    kafka.logger().warn('some other warning');
    expect(lines.find((l) => l.msg.startsWith('Limiting retries'))?.level).toBe('debug');
    expect(lines.find((l) => l.msg === 'some other warning')?.level).toBe('warn');
  });
});
