import type { IHeaders, Kafka, Message, Producer } from 'kafkajs';
import { StreamProcessorError, StreamProcessorErrorCode } from './errors.ts';

/**
 * Dead letters: a record that cannot be decoded or fails validation is produced, byte for byte, to
 * its topic's DLQ (the topic registry names it) with headers saying where it came from and why, and
 * consumption goes on. Its offset is committed only once the DLQ acknowledged it, so a poison
 * record is never lost; after a crash it may be dead-lettered twice (the source coordinates in the
 * headers identify the copies).
 */
export const DeadLetterHeader = {
  SOURCE_TOPIC: 'searchop-source-topic',
  SOURCE_PARTITION: 'searchop-source-partition',
  SOURCE_OFFSET: 'searchop-source-offset',
  /** A closed code: SCH_* from the codec (bad magic byte, unknown schema id, corrupt payload) or STP_*. */
  ERROR_CODE: 'searchop-error-code',
  ERROR_REASON: 'searchop-error-reason',
  /** ISO 8601 time at which the processor gave up on the record. */
  FAILED_AT: 'searchop-failed-at',
} as const;

/** Reasons longer than this are cut: a header is for people and tooling, not for whole payload dumps. */
const MAX_REASON_LENGTH = 1_000;

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders | undefined;
}

export interface Failure {
  readonly code: string;
  readonly reason: string;
}

export interface DeadLetter {
  /** The dead-letter topic of the source record's topic. */
  readonly dlqTopic: string;
  readonly source: SourceRecord;
  readonly failure: Failure;
}

/**
 * The DLQ message of a poison record: its key and value unchanged, its own headers kept (so that a
 * replay can restore the record as it was) and the dead-letter headers added.
 */
export function deadLetterMessage(source: SourceRecord, failure: Failure, failedAt: Date): Message {
  const reason =
    failure.reason.length > MAX_REASON_LENGTH ? `${failure.reason.slice(0, MAX_REASON_LENGTH - 1)}…` : failure.reason;
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...source.headers,
      [DeadLetterHeader.SOURCE_TOPIC]: source.topic,
      [DeadLetterHeader.SOURCE_PARTITION]: String(source.partition),
      [DeadLetterHeader.SOURCE_OFFSET]: source.offset,
      [DeadLetterHeader.ERROR_CODE]: failure.code,
      [DeadLetterHeader.ERROR_REASON]: reason,
      [DeadLetterHeader.FAILED_AT]: failedAt.toISOString(),
    },
  };
}

export interface DeadLetterOrigin {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly sourceOffset: string;
  readonly code: string;
  readonly reason: string;
  readonly failedAt: string;
}

/** Reads the dead-letter headers of a DLQ record back (replay tooling, tests); undefined if one is missing. */
export function deadLetterOrigin(headers: IHeaders | undefined): DeadLetterOrigin | undefined {
  const text = (name: string): string | undefined => {
    const value = headers?.[name];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  };
  const sourceTopic = text(DeadLetterHeader.SOURCE_TOPIC);
  const partition = text(DeadLetterHeader.SOURCE_PARTITION);
  const sourceOffset = text(DeadLetterHeader.SOURCE_OFFSET);
  const code = text(DeadLetterHeader.ERROR_CODE);
  const reason = text(DeadLetterHeader.ERROR_REASON);
  const failedAt = text(DeadLetterHeader.FAILED_AT);
  if (
    sourceTopic === undefined ||
    partition === undefined ||
    sourceOffset === undefined ||
    code === undefined ||
    reason === undefined ||
    failedAt === undefined
  ) {
    return undefined;
  }
  return { sourceTopic, sourcePartition: Number(partition), sourceOffset, code, reason, failedAt };
}

/** Produces dead letters and resolves only once Kafka acknowledged all of them (acks=all). */
export class DeadLetterPublisher {
  readonly #producer: Producer;
  readonly #now: () => Date;

  private constructor(producer: Producer, now: () => Date) {
    this.#producer = producer;
    this.#now = now;
  }

  static async create(kafka: Kafka, now: () => Date = () => new Date()): Promise<DeadLetterPublisher> {
    // Idempotent, so that a retried send does not write a letter twice; DLQ topics are provisioned, never auto-created.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return new DeadLetterPublisher(producer, now);
  }

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = this.#now();
    const byTopic = new Map<string, Message[]>();
    for (const letter of letters) {
      const message = deadLetterMessage(letter.source, letter.failure, failedAt);
      const messages = byTopic.get(letter.dlqTopic);
      if (messages) messages.push(message);
      else byTopic.set(letter.dlqTopic, [message]);
    }
    try {
      await this.#producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (cause) {
      throw new StreamProcessorError(
        StreamProcessorErrorCode.DEAD_LETTER_UNAVAILABLE,
        `the dead-letter topic(s) ${[...byTopic.keys()].join(', ')} did not acknowledge ${letters.length} record(s): ${(cause as Error).message}`,
        { cause, retriable: true },
      );
    }
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}
