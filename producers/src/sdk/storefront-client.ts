import { Partitioners, type Kafka, type Message, type Producer, type RetryOptions, type TopicMessages } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  WireEncoder,
  avroTypeOf,
  eventTypes,
  type EventCodec,
  type EventOf,
  type EventType,
  type TopicSpec,
} from '@searchop/schemas';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import { RecentIds } from './recent-ids.ts';

export interface StorefrontClientOptions {
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  readonly metrics?: Registry;
  /** How long an event may wait for others to share its batch. */
  readonly lingerMs?: number;
  /** A batch is sent as soon as it holds this many events. */
  readonly maxBatchSize?: number;
  /** Events accepted but not yet acknowledged; emit() waits for room beyond this (back-pressure). */
  readonly maxBufferedEvents?: number;
  /** Drop events whose event_id was emitted within this window (client retries); 0 turns it off. */
  readonly dedupeWindowMs?: number;
  /** kafkajs retry policy of the producer: bounds how long an outage takes to surface as PRD_KAFKA_UNAVAILABLE. */
  readonly retry?: RetryOptions;
  /** Topic names by topic id, where a deployment names its topics otherwise (prefixes, tests). */
  readonly topicNames?: Readonly<Record<string, string>>;
}

/** What emit() resolves to: `duplicate` when the event id was already emitted within the window. */
export type EmitOutcome = 'sent' | 'duplicate';

interface Pending {
  readonly topic: string;
  readonly message: Message;
  readonly eventId: string;
  readonly type: EventType;
  resolve(outcome: EmitOutcome): void;
  reject(error: unknown): void;
}

/**
 * The storefront SDK: typed emit functions over an idempotent kafkajs producer. Events are validated
 * and encoded at once (a bad event throws before anything is buffered), batched for up to `lingerMs`
 * or `maxBatchSize`, and each emit() resolves only when Kafka acknowledged its event (acks=all).
 * Memory is bounded: beyond `maxBufferedEvents` emit() waits. close() flushes what is buffered.
 */
export class StorefrontClient {
  readonly #producer: Producer;
  readonly #codec: EventCodec;
  readonly #lingerMs: number;
  readonly #maxBatchSize: number;
  readonly #maxBuffered: number;
  readonly #recent: RecentIds | undefined;
  readonly #topicNames: Readonly<Record<string, string>>;
  #buffer: Pending[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  #sendInFlight = false;
  #roomWaiters: (() => void)[] = [];
  #closed = false;
  readonly #encoder = new WireEncoder();
  readonly #sent: Counter<'type'>;
  readonly #failed: Counter<'type'>;
  readonly #duplicates: Counter<'type'>;
  readonly #buffered: Gauge;
  readonly #batchSeconds: Histogram;

  private constructor(options: StorefrontClientOptions, producer: Producer) {
    this.#producer = producer;
    this.#codec = options.codec;
    this.#lingerMs = options.lingerMs ?? 5;
    this.#maxBatchSize = options.maxBatchSize ?? 1_000;
    this.#maxBuffered = options.maxBufferedEvents ?? 50_000;
    this.#topicNames = options.topicNames ?? {};
    const dedupeWindowMs = options.dedupeWindowMs ?? 10 * 60_000;
    this.#recent = dedupeWindowMs > 0 ? new RecentIds(dedupeWindowMs, 1_000_000) : undefined;
    const registers = options.metrics ? [options.metrics] : [];
    this.#sent = new Counter({
      name: 'searchop_events_sent_total',
      help: 'Events acknowledged by Kafka',
      labelNames: ['type'],
      registers,
    });
    this.#failed = new Counter({
      name: 'searchop_events_failed_total',
      help: 'Events Kafka did not acknowledge',
      labelNames: ['type'],
      registers,
    });
    this.#duplicates = new Counter({
      name: 'searchop_events_duplicate_total',
      help: 'Events dropped as duplicates of a recent event_id',
      labelNames: ['type'],
      registers,
    });
    this.#buffered = new Gauge({
      name: 'searchop_events_buffered',
      help: 'Events accepted but not yet acknowledged',
      registers,
      // Read when scraped rather than set on every event.
      collect: () => this.#buffered.set(this.outstanding),
    });
    this.#batchSeconds = new Histogram({
      name: 'searchop_produce_batch_duration_seconds',
      help: 'Time for Kafka to acknowledge one batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  static async create(options: StorefrontClientOptions): Promise<StorefrontClient> {
    // Idempotent producer: broker-side dedupe of retried batches; it requires one request in flight.
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2 partitioning, so keys land where Kafka Streams or Java clients would put them.
      createPartitioner: Partitioners.DefaultPartitioner,
      // About 5 s of retries by default: long enough for a leader election, short enough that a
      // caller (the collector answering 503) hears of an outage quickly.
      retry: options.retry ?? { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    await producer.connect();
    return new StorefrontClient(options, producer);
  }

  emitImpression(event: EventOf<'search_impression'>): Promise<EmitOutcome> {
    return this.emit('search_impression', event);
  }
  emitClick(event: EventOf<'click'>): Promise<EmitOutcome> {
    return this.emit('click', event);
  }
  emitAddToCart(event: EventOf<'add_to_cart'>): Promise<EmitOutcome> {
    return this.emit('add_to_cart', event);
  }
  emitPurchase(event: EventOf<'purchase'>): Promise<EmitOutcome> {
    return this.emit('purchase', event);
  }
  emitProductChange(event: EventOf<'product_change'>): Promise<EmitOutcome> {
    return this.emit('product_change', event);
  }

  /**
   * Validates and encodes now (rejects with SCH_INVALID_VALUE), resolves once Kafka acknowledged the
   * event. Not an async function: on the common path it makes one promise per event, not three.
   */
  emit<T extends EventType>(type: T, event: EventOf<T>): Promise<EmitOutcome> {
    try {
      if (this.#closed) throw new ProducerError(ProducerErrorCode.CLOSED, 'the storefront client is closed');
      const spec = eventTypes[type] as unknown as TopicSpec<EventOf<T>>;
      // The compiled check first; the path-collecting one only for a value that fails it.
      const avro = avroTypeOf(spec);
      if (!avro.isValid(event)) return this.#refuse(spec, event);
      const value = this.#encoder.encode(avro, this.#codec.writerId(spec), event);
      const eventId = (event as { event_id: string }).event_id;
      if (this.#recent?.seen(eventId)) {
        this.#duplicates.inc({ type });
        return Promise.resolve('duplicate');
      }
      const topic = this.#topicNames[spec.id] ?? spec.name;
      const message = { key: String((event as unknown as Record<string, unknown>)[spec.keyField]), value };
      if (this.#buffer.length + this.#inFlight >= this.#maxBuffered) {
        return this.#enqueueWhenRoom(topic, message, eventId, type);
      }
      return this.#enqueue(topic, message, eventId, type);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Rejects with the codec's SCH_INVALID_VALUE, which names every field that fails the schema. */
  async #refuse<V>(spec: TopicSpec<V>, event: V): Promise<never> {
    await this.#codec.encode(spec, event);
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `invalid ${spec.id} value`);
  }

  /**
   * Back-pressure: waits for room, then enqueues in the same step as the last check, so that waiters
   * woken together cannot all pass the check before any of them took the room.
   */
  async #enqueueWhenRoom(topic: string, message: Message, eventId: string, type: EventType): Promise<EmitOutcome> {
    while (this.#buffer.length + this.#inFlight >= this.#maxBuffered) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      if (this.#closed) throw new ProducerError(ProducerErrorCode.CLOSED, 'the storefront client is closed');
    }
    return this.#enqueue(topic, message, eventId, type);
  }

  #enqueue(topic: string, message: Message, eventId: string, type: EventType): Promise<EmitOutcome> {
    return new Promise<EmitOutcome>((resolve, reject) => {
      this.#buffer.push({ topic, message, eventId, type, resolve, reject });
      if (this.#buffer.length >= this.#maxBatchSize) this.#scheduleSend(0);
      else this.#scheduleSend(this.#lingerMs);
    });
  }

  /** Events accepted and not yet acknowledged (buffered or in flight); never above maxBufferedEvents. */
  get outstanding(): number {
    return this.#buffer.length + this.#inFlight;
  }

  /** Resolves when every event emitted before the call is acknowledged (or failed). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffer.length > 0 || this.#sendInFlight) {
      this.#enqueueSend();
      await this.#sending;
    }
  }

  /** Stops accepting events, flushes the buffer, disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
    await this.flush();
    await this.#producer.disconnect();
  }

  #scheduleSend(delayMs: number): void {
    if (delayMs === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#enqueueSend();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#enqueueSend();
      }, delayMs);
    }
  }

  /**
   * Sends the next batch unless one is in flight (one request at a time, as the idempotent producer
   * wants). The batch is cut when the producer is free, not before: events that arrive during a
   * round trip go out together in the next request instead of queueing as many small ones.
   */
  #enqueueSend(): void {
    if (this.#sendInFlight) return; // #send() sends what has accumulated when it is done
    const batch = this.#buffer.splice(0, this.#maxBatchSize);
    if (batch.length === 0) return;
    this.#inFlight += batch.length;
    this.#sendInFlight = true;
    this.#sending = this.#send(batch);
  }

  async #send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const messages = byTopic.get(p.topic);
      if (messages) messages.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const end = this.#batchSeconds.startTimer();
    try {
      await this.#producer.sendBatch({ topicMessages, acks: -1 });
      end();
      countByType(this.#sent, batch);
      for (const p of batch) p.resolve('sent');
    } catch (cause) {
      const error = new ProducerError(
        ProducerErrorCode.KAFKA_UNAVAILABLE,
        `Kafka did not acknowledge ${batch.length} event(s): ${(cause as Error).message}`,
        {
          cause,
          retriable: true,
        },
      );
      countByType(this.#failed, batch);
      for (const p of batch) {
        this.#recent?.forget(p.eventId);
        p.reject(error);
      }
    } finally {
      this.#inFlight -= batch.length;
      this.#sendInFlight = false;
      for (const waiter of this.#roomWaiters.splice(0)) waiter();
      // Events that arrived during this round trip have waited at least as long as the linger: send them now.
      if (this.#buffer.length > 0) this.#scheduleSend(0);
    }
  }
}

/** One counter update per event type of a batch, not one per event. */
function countByType(counter: Counter<'type'>, batch: readonly Pending[]): void {
  const counts = new Map<EventType, number>();
  for (const p of batch) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  for (const [type, n] of counts) counter.inc({ type }, n);
}
