import {
  Partitioners,
  type Kafka,
  type Producer,
  type ProducerConfig,
  type RetryOptions,
  type TopicMessages,
} from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  SchemaError,
  WireEncoder,
  avroTypeOf,
  invalidValue,
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

/** One event for emitMany(): its type and the typed value. */
export type EmitRequest = { [T in EventType]: { readonly type: T; readonly event: EventOf<T> } }[EventType];

/** Per event type, what emitting needs: resolved once instead of on every event. */
interface Route {
  readonly type: EventType;
  readonly spec: TopicSpec<unknown>;
  readonly avro: ReturnType<typeof avroTypeOf>;
  readonly writerId: number;
  readonly topic: string;
  readonly keyField: string;
}

/**
 * A buffered event. It is also the kafkajs Message (key, value) handed to sendBatch, so that an event
 * costs one object on its way through the buffer, not two. Its encoded record is a range of one of the
 * encoder's slabs until the batch is sent; only then is `value` made (a Buffer object per buffered
 * event, tens of thousands of them alive at a time, was a large part of the SDK's garbage collection).
 */
interface Pending {
  readonly key: string;
  value: Buffer | null;
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
  readonly eventId: string;
  readonly route: Route;
  /** What the event's outcome goes to: its emitMany() list (at `index`), or for emit() the event itself. */
  readonly call: Caller;
  readonly index: number;
}

/** What waits on buffered events: told each one's outcome, or that Kafka did not acknowledge it. */
interface Caller {
  settle(index: number, outcome: EmitOutcome): void;
  fail(error: unknown): void;
}

/**
 * What one emitMany() call waits on: settled when the last of its events is acknowledged or failed,
 * so that a rejection means no event of the list is still in flight; resolves with every outcome.
 */
class Call implements Caller {
  readonly outcomes: EmitOutcome[];
  remaining: number;
  error: unknown;
  readonly #resolve: (outcomes: EmitOutcome[]) => void;
  readonly #reject: (error: unknown) => void;

  constructor(size: number, resolve: (outcomes: EmitOutcome[]) => void, reject: (error: unknown) => void) {
    this.outcomes = new Array<EmitOutcome>(size);
    this.remaining = size;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  settle(index: number, outcome: EmitOutcome): void {
    this.outcomes[index] = outcome;
    if (--this.remaining === 0) this.#finish();
  }

  fail(error: unknown): void {
    this.error ??= error;
    if (--this.remaining === 0) this.#finish();
  }

  #finish(): void {
    if (this.error !== undefined) this.#reject(this.error);
    else this.#resolve(this.outcomes);
  }
}

/**
 * emit()'s buffered event and what waits on it in one object: an emit() has one event, so its
 * promise is settled by the event itself (one object fewer per event, alive until Kafka answers).
 */
class SingleEmit implements Pending, Caller {
  readonly key: string;
  value: Buffer | null = null;
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
  readonly eventId: string;
  readonly route: Route;
  readonly call: Caller = this;
  readonly index = 0;
  readonly #resolve: (outcome: EmitOutcome) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    key: string,
    encoder: WireEncoder,
    start: number,
    eventId: string,
    route: Route,
    resolve: (outcome: EmitOutcome) => void,
    reject: (error: unknown) => void,
  ) {
    this.key = key;
    this.slab = encoder.slab;
    this.start = start;
    this.end = encoder.end;
    this.eventId = eventId;
    this.route = route;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  settle(_index: number, outcome: EmitOutcome): void {
    this.#resolve(outcome);
  }

  fail(error: unknown): void {
    this.#reject(error);
  }
}

/** The SDK's retry policy: about 5 s, enough for a leader election, short enough to surface an outage. */
const DEFAULT_RETRY: RetryOptions = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 };

/**
 * The storefront SDK: typed emit functions over an idempotent kafkajs producer. Events are validated
 * and encoded at once (a bad event throws before anything is buffered), batched for up to `lingerMs`
 * or `maxBatchSize`, and each emit() resolves only when Kafka acknowledged its event (acks=all).
 * emitMany() does the same for a list of events with one promise for all of them. Memory is
 * bounded: beyond `maxBufferedEvents` emits wait (back-pressure). close() flushes what is buffered.
 */
export class StorefrontClient {
  readonly #kafka: Kafka;
  readonly #producerConfig: ProducerConfig;
  #producer: Producer;
  /** Connection of the current producer; undefined after it was replaced, until the next send connects it. */
  #connected: Promise<void> | undefined;
  readonly #codec: EventCodec;
  readonly #lingerMs: number;
  readonly #maxBatchSize: number;
  readonly #maxBuffered: number;
  readonly #recent: RecentIds | undefined;
  readonly #topicNames: Readonly<Record<string, string>>;
  readonly #routes = new Map<EventType, Route>();
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

  private constructor(options: StorefrontClientOptions, producerConfig: ProducerConfig, producer: Producer) {
    this.#kafka = options.kafka;
    this.#producerConfig = producerConfig;
    this.#producer = producer;
    this.#connected = Promise.resolve();
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
    const retry = options.retry ?? DEFAULT_RETRY;
    // The idempotent producer retries a batch with its sequence numbers until the broker has it; kafkajs
    // refuses it without retries, and it allows one request in flight.
    if (!(retry.retries !== undefined && retry.retries >= 1)) {
      throw new ProducerError(
        ProducerErrorCode.INPUT_INVALID,
        'retry.retries must be at least 1 (idempotent producer)',
      );
    }
    const producerConfig: ProducerConfig = {
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2 partitioning, so keys land where Kafka Streams or Java clients would put them.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded on purpose: a caller (the collector answering 503) hears of an outage in seconds.
      // After a send runs out of retries the producer is replaced (see #send), so the bound cannot
      // cost the idempotence kafkajs warns about.
      retry,
    };
    const producer = options.kafka.producer(producerConfig);
    await producer.connect();
    return new StorefrontClient(options, producerConfig, producer);
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
      const route = this.#route(type);
      const encoder = this.#encoder;
      let start: number;
      try {
        // Validates as it writes (see WireEncoder): an invalid event throws here and yields no bytes.
        start = encoder.write(route.avro, route.writerId, event);
      } catch (cause) {
        return Promise.reject(this.#refusal(route, event, '', cause));
      }
      const eventId = (event as { event_id: string }).event_id;
      if (this.#recent?.seen(eventId)) {
        this.#duplicates.inc({ type });
        return Promise.resolve('duplicate');
      }
      const { promise, resolve, reject } = Promise.withResolvers<EmitOutcome>();
      const key = String((event as unknown as Record<string, unknown>)[route.keyField]);
      const pending = new SingleEmit(key, encoder, start, eventId, route, resolve, reject);
      if (this.outstanding < this.#maxBuffered) this.#push(pending);
      else void this.#pushWhenRoom([pending], 0);
      return promise;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Emits a list of events (any mix of types) with one promise for all of them: resolves with each
   * event's outcome, in order, once Kafka acknowledged every one. Every event is validated and
   * encoded first: if one is invalid the call rejects with SCH_INVALID_VALUE naming `events[index]` and
   * the field,
   * and none of the list is buffered. If Kafka does not acknowledge some of them, the call rejects
   * with PRD_KAFKA_UNAVAILABLE once none of its events is in flight any more; the others were written,
   * so the whole list may be sent again with the same event ids: those are answered `duplicate`.
   */
  emitMany(events: readonly EmitRequest[]): Promise<EmitOutcome[]> {
    try {
      if (this.#closed) throw new ProducerError(ProducerErrorCode.CLOSED, 'the storefront client is closed');
      const n = events.length;
      if (n === 0) return Promise.resolve([]);
      const { promise, resolve, reject } = Promise.withResolvers<EmitOutcome[]>();
      const call = new Call(n, resolve, reject);
      const encoder = this.#encoder;
      const encoded = new Array<Pending>(n);
      for (let i = 0; i < n; i++) {
        const request = events[i]!;
        const event = request.event as unknown as Record<string, unknown>;
        const route = this.#route(request.type);
        let start: number;
        try {
          start = encoder.write(route.avro, route.writerId, event);
        } catch (cause) {
          // Nothing of the list was taken: not its events, not their ids; the call's promise is dropped.
          return Promise.reject(this.#refusal(route, event, `events[${i}]: `, cause));
        }
        encoded[i] = {
          key: String(event[route.keyField]),
          value: null,
          slab: encoder.slab,
          start,
          end: encoder.end,
          eventId: event['event_id'] as string,
          route,
          call,
          index: i,
        };
      }
      const recent = this.#recent;
      let pending = encoded;
      if (recent !== undefined) {
        pending = [];
        const now = Date.now();
        for (const p of encoded) {
          if (recent.seen(p.eventId, now)) {
            this.#duplicates.inc({ type: p.route.type });
            call.settle(p.index, 'duplicate');
          } else {
            pending.push(p);
          }
        }
      }
      if (this.outstanding + pending.length <= this.#maxBuffered) this.#pushAll(pending);
      else void this.#pushWhenRoom(pending, 0);
      return promise;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #route(type: EventType): Route {
    let route = this.#routes.get(type);
    if (route === undefined) {
      const spec = eventTypes[type] as unknown as TopicSpec<unknown>;
      if (spec === undefined) {
        throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `unknown event type ${JSON.stringify(type)}`);
      }
      route = {
        type,
        spec,
        avro: avroTypeOf(spec),
        writerId: this.#codec.writerId(spec),
        topic: this.#topicNames[spec.id] ?? spec.name,
        keyField: spec.keyField,
      };
      this.#routes.set(type, route);
    }
    return route;
  }

  /** The codec's SCH_INVALID_VALUE for an event avsc refused to write, naming every field that fails the schema. */
  #refusal(route: Route, event: unknown, where: string, cause: unknown): SchemaError {
    const error = invalidValue(route.spec, event, cause);
    return where === '' ? error : new SchemaError(error.code, `${where}${error.message}`, { cause: error });
  }

  /**
   * Back-pressure: waits for room before each event, and takes it in the same step as the last check,
   * so that waiters woken together cannot all pass the check before any of them took the room.
   */
  async #pushWhenRoom(pending: readonly Pending[], from: number): Promise<void> {
    for (let i = from; i < pending.length; i++) {
      while (this.outstanding >= this.#maxBuffered) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
        if (this.#closed) {
          const error = new ProducerError(ProducerErrorCode.CLOSED, 'the storefront client is closed');
          for (let j = i; j < pending.length; j++) {
            this.#recent?.forget(pending[j]!.eventId);
            pending[j]!.call.fail(error);
          }
          return;
        }
      }
      this.#push(pending[i]!);
    }
  }

  #push(pending: Pending): void {
    this.#buffer.push(pending);
    this.#scheduleBuffered();
  }

  #pushAll(pending: readonly Pending[]): void {
    if (pending.length === 0) return;
    const buffer = this.#buffer;
    for (const p of pending) buffer.push(p);
    this.#scheduleBuffered();
  }

  /** A full batch goes now, a partial one after the linger. */
  #scheduleBuffered(): void {
    this.#scheduleSend(this.#buffer.length >= this.#maxBatchSize ? 0 : this.#lingerMs);
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

  /**
   * Graceful shutdown: stops accepting events (emits waiting for room are refused with PRD_CLOSED),
   * sends and waits for everything already buffered, then disconnects.
   */
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
    const byTopic = new Map<string, Pending[]>();
    for (const p of batch) {
      p.value = p.slab.subarray(p.start, p.end);
      const messages = byTopic.get(p.route.topic);
      if (messages) messages.push(p);
      else byTopic.set(p.route.topic, [p]);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    const end = this.#batchSeconds.startTimer();
    try {
      await (this.#connected ??= this.#producer.connect());
      await this.#producer.sendBatch({ topicMessages, acks: -1 });
      end();
      countByType(this.#sent, batch);
      for (const p of batch) p.call.settle(p.index, 'sent');
    } catch (cause) {
      this.#replaceProducer();
      const error = new ProducerError(
        ProducerErrorCode.KAFKA_UNAVAILABLE,
        `Kafka did not acknowledge ${batch.length} event(s): ${(cause as Error).message}`,
        { cause, retriable: true },
      );
      countByType(this.#failed, batch);
      for (const p of batch) {
        this.#recent?.forget(p.eventId);
        p.call.fail(error);
      }
    } finally {
      this.#inFlight -= batch.length;
      this.#sendInFlight = false;
      for (const waiter of this.#roomWaiters.splice(0)) waiter();
      // Events that arrived during this round trip have waited at least as long as the linger: send them now.
      if (this.#buffer.length > 0) this.#scheduleSend(0);
    }
  }

  /**
   * After a send that ran out of retries, kafkajs has rolled its sequence numbers back, yet the broker
   * may have written the batch (a timeout after the write): the next batch would reuse those numbers
   * and be taken for a duplicate, or refused as out of order. A new producer (a new producer id)
   * starts its sequences afresh; it connects on the next send.
   */
  #replaceProducer(): void {
    const broken = this.#producer;
    this.#producer = this.#kafka.producer(this.#producerConfig);
    this.#connected = undefined;
    void broken.disconnect().catch(() => undefined);
  }
}

/** One counter update per event type of a batch, not one per event. */
function countByType(counter: Counter<'type'>, batch: readonly Pending[]): void {
  const counts = new Map<EventType, number>();
  for (const p of batch) counts.set(p.route.type, (counts.get(p.route.type) ?? 0) + 1);
  for (const [type, n] of counts) counter.inc({ type }, n);
}
