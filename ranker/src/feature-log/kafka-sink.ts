import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { isSearchOpError } from '@searchop/runtime';
import { SchemaErrorCode, type EventCodec, type RankingLog, type TopicSpec } from '@searchop/schemas';
import { RankerError, RankerErrorCode } from '../errors.ts';
import type { RankingLogSink } from './feature-log.ts';
import type { RankingLogRecord } from './served-ranking.ts';

/**
 * Writes feature-log records to their topic through an idempotent kafkajs producer (broker-side
 * dedupe of retried batches), each validated and encoded by the typed codec (Confluent wire format).
 * Connects on first use and again after a failure, so a Kafka outage at start-up or later only
 * costs the records sent meanwhile, never the ranker's start or its answers.
 *
 * Resuming after an outage: a send that fails replaces the producer (a new producer id, fresh
 * connections and metadata), and a send that has not settled after `sendTimeoutMs` is treated the
 * same way — kafkajs has had requests that never settle once their connection went away, and a
 * single such promise would otherwise hold the feature log's drain for good.
 */
export class KafkaRankingSink implements RankingLogSink {
  readonly #kafka: Kafka;
  #producer: Producer;
  readonly #spec: TopicSpec<RankingLog>;
  #connect: () => Promise<void>;
  readonly #codec: () => Promise<EventCodec>;
  readonly #maxRequestBytes: number;
  readonly #sendTimeoutMs: number;

  /**
   * `codec` is called on first use (and after it failed): the schema registry may be away at
   * start-up. A ranking of 1,000 candidates is about half a megabyte, so records are sent in
   * requests of at most `maxRequestBytes`, under the broker's default message.max.bytes (1 MiB),
   * which bounds a partition's record batch; a single record above it is refused (and counted).
   */
  constructor(
    kafka: Kafka,
    codec: () => Promise<EventCodec>,
    spec: TopicSpec<RankingLog>,
    { maxRequestBytes = 900_000, sendTimeoutMs = 60_000 }: { maxRequestBytes?: number; sendTimeoutMs?: number } = {},
  ) {
    this.#spec = spec;
    this.#maxRequestBytes = maxRequestBytes;
    this.#sendTimeoutMs = sendTimeoutMs;
    this.#codec = untilItSucceeds(codec);
    this.#kafka = kafka;
    this.#producer = this.#newProducer();
    this.#connect = untilItSucceeds(() => this.#producer.connect());
  }

  #newProducer(): Producer {
    return this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // A few seconds of retries: a leader election passes; an outage fails the send, and the feature
      // log sends the batch again later with a new producer.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  }

  async send(records: readonly RankingLogRecord[]): Promise<{ refused: number }> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      const producer = this.#producer;
      timer = setTimeout(() => {
        this.#replaceProducer(producer);
        reject(
          new RankerError(
            RankerErrorCode.FEATURE_LOG_SEND_TIMEOUT,
            `feature-log send to ${this.#spec.name} did not settle in ${this.#sendTimeoutMs} ms; producer replaced`,
            { retriable: true },
          ),
        );
      }, this.#sendTimeoutMs);
    });
    const sending = this.#send(records);
    // The abandoned send may still reject later: nobody waits for it any more.
    sending.catch(() => undefined);
    try {
      return await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(records: readonly RankingLogRecord[]): Promise<{ refused: number }> {
    const codec = await this.#codec();
    await this.#connect();
    let refused = 0;
    let chunk: { key: string; value: Buffer }[] = [];
    let chunkBytes = 0;
    for (const record of records) {
      let value: Buffer;
      try {
        // The feature log built the record from typed arrays: no separate validation pass.
        value = await codec.encodeBuilt(this.#spec, record);
      } catch (error) {
        if (!isSearchOpError(error, SchemaErrorCode.INVALID_VALUE)) throw error;
        refused++;
        continue;
      }
      if (value.length > this.#maxRequestBytes) {
        refused++;
        continue;
      }
      if (chunkBytes + value.length > this.#maxRequestBytes) {
        await this.#produce(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push({ key: record.request_id, value });
      chunkBytes += value.length;
    }
    if (chunk.length > 0) await this.#produce(chunk);
    return { refused };
  }

  async #produce(messages: { key: string; value: Buffer }[]): Promise<void> {
    const producer = this.#producer;
    try {
      await producer.send({ topic: this.#spec.name, acks: -1, messages });
    } catch (error) {
      // After a failed send an idempotent kafkajs producer can be left with sequence numbers the
      // broker no longer accepts (a broker killed and restarted): start over with a new producer id.
      this.#replaceProducer(producer);
      throw error;
    }
  }

  /** Replaces `broken` unless that happened already (a timed-out send that fails later). */
  #replaceProducer(broken: Producer): void {
    if (this.#producer !== broken) return;
    this.#producer = this.#newProducer();
    this.#connect = untilItSucceeds(() => this.#producer.connect());
    void broken.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}

/** Memoizes an async set-up step; a failure is forgotten, so the next call tries again. */
function untilItSucceeds<T>(step: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= step().catch((error: unknown) => {
      pending = undefined;
      throw error;
    }));
}
