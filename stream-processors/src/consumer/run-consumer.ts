import { setTimeout as sleep } from 'node:timers/promises';
import { isSearchOpError, type Logger } from '@searchop/runtime';
import {
  SchemaErrorCode,
  topics,
  type EventCodec,
  type TopicId,
  type TopicSpec,
  type TopicSpecBase,
} from '@searchop/schemas';
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import { ConsumerMetrics, RecordOutcome } from './consumer-metrics.ts';
import type { DeadLetter, DeadLetterPublisher, Failure } from './dead-letter.ts';
import { StreamProcessorError, StreamProcessorErrorCode } from './errors.ts';
import { checkEvent } from './event-checks.ts';
import { PendingBatch, type BatchLimits, type CommitPosition } from './pending-batch.ts';
import { partitionKey, type ConsumedEvent } from './records.ts';

export interface RunConsumerOptions {
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly groupId: string;
  /** The topics to consume, each decoded with its own schema; poison goes to each one's `dlq`. */
  readonly specs: readonly TopicSpecBase[];
  readonly deadLetters: DeadLetterPublisher;
  /**
   * Applies a batch of events (several partitions and topics, each partition in offset order) and
   * resolves once its effect is durable; only then are the offsets committed. It may be called
   * again with events it already applied (after a crash or a rebalance): make it idempotent.
   */
  readonly handle: (events: readonly ConsumedEvent[]) => Promise<void>;
  /**
   * Where the handler's own store says a partition continues (every offset below it is durable
   * there), when that store rather than the committed offset is the source of truth. Asked when the
   * member first fetches a partition after being assigned it; records below are skipped.
   */
  readonly resumeFrom?: (spec: TopicSpecBase, partition: number) => Promise<number | undefined>;
  /** Extra checks after decoding; a failure dead-letters the record. Defaults to checkEvent. */
  readonly check?: (event: ConsumedEvent) => Failure | undefined;
  /** When gathered records are handed over; defaults: 10,000 records, 16 MiB, 1 s. */
  readonly batch?: Partial<BatchLimits>;
  /** Group session timeout: how soon a crashed member's partitions move (kafkajs default 30 s). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Where a group with no committed offset starts; true (the default) replays the retained topic. */
  readonly fromBeginning?: boolean;
  /** How often the lag gauge re-reads high watermarks and committed offsets from the brokers. */
  readonly lagRefreshMs?: number;
  /** Attempts at a failing batch before the runner gives up (the process should then exit). */
  readonly handlerAttempts?: number;
}

export interface ConsumerRunner {
  /** Resolves once this member has joined the group and received its partitions. */
  readonly joined: Promise<void>;
  /** Resolves when stop() finished; rejects when the runner gave up on an error. */
  readonly done: Promise<void>;
  /** True while consuming: joined, not stopping, not crashed. */
  healthy(): boolean;
  /** Stops fetching, hands over and commits what was gathered, leaves the group. */
  stop(): Promise<void>;
}

/** Decoding failures that mean the record itself is bad; anything else (the registry is down) is retried. */
const POISON_CODES: ReadonlySet<string> = new Set([
  SchemaErrorCode.BAD_MAGIC_BYTE,
  SchemaErrorCode.UNKNOWN_SCHEMA_ID,
  SchemaErrorCode.WRONG_SUBJECT,
  SchemaErrorCode.CORRUPT_PAYLOAD,
  SchemaErrorCode.INVALID_VALUE,
]);

/** Records decoded between two yields to the event loop (and heartbeats). */
const YIELD_EVERY = 200;

const defaultLimits: BatchLimits = { maxRecords: 10_000, maxBytes: 16 * 1024 * 1024, maxWaitMs: 1_000 };

/**
 * The consumer runner every stream processor stands on (after PG's runConsumer): it owns kafkajs
 * consuming (eachBatch), decoding through the codec, dead-lettering poison, gathering records into
 * batches, calling the handler and committing only after the handler said the batch is durable, and
 * its metrics. Handlers never see kafkajs.
 *
 * Positions. Per partition it keeps `next`: every offset below is durable, dead-lettered or
 * gathered. Records below `next` are skipped, which makes the redelivery that follows a rebalance
 * (kafkajs restarts from the committed offset) harmless. After an assignment, `next` starts at the
 * fetch position (the committed offset) or, if the handler's store knows a later one, there.
 */
export async function runConsumer(options: RunConsumerOptions): Promise<ConsumerRunner> {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    allowAutoTopicCreation: false,
    // A non-retriable error of ours (the store is ahead of the topic) needs a person, not a restart loop.
    retry: { restartOnFailure: async (error) => !(isSearchOpError(error) && !error.retriable) },
  });
  const admin = options.kafka.admin();
  const runner = new Runner(options, consumer, admin);
  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: options.specs.map((s) => s.name), fromBeginning: options.fromBeginning ?? true });
  await runner.start();
  return runner;
}

/** The registry key of a spec (`addToCarts` for `add-to-carts`): what ConsumedEvent.topicId discriminates on. */
function topicIdOf(spec: TopicSpecBase): TopicId {
  const entry = Object.entries(topics).find(([, t]) => t.id === spec.id);
  if (!entry) {
    throw new StreamProcessorError(
      StreamProcessorErrorCode.UNKNOWN_TOPIC,
      `topic ${spec.id} (${spec.name}) is not in the topic registry`,
    );
  }
  return entry[0] as TopicId;
}

class Runner implements ConsumerRunner {
  readonly joined: Promise<void>;
  readonly done: Promise<void>;
  readonly #options: RunConsumerOptions;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #logger: Logger;
  readonly #limits: BatchLimits;
  readonly #metrics: ConsumerMetrics;
  readonly #specsByTopic: Map<string, { spec: TopicSpecBase; topicId: TopicId }>;
  readonly #check: (event: ConsumedEvent) => Failure | undefined;
  /** Per owned partition: every offset below is durable, dead-lettered or gathered. */
  readonly #next = new Map<string, number>();
  #owned = new Set<string>();
  #pending = new PendingBatch();
  #handOvers: Promise<void> = Promise.resolve();
  #inFlight: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #hasJoined = false;
  #stopping = false;
  #failed: unknown;
  #resolveJoined!: () => void;
  #resolveDone!: () => void;
  #rejectDone!: (error: unknown) => void;

  constructor(options: RunConsumerOptions, consumer: Consumer, admin: Admin) {
    this.#options = options;
    this.#consumer = consumer;
    this.#admin = admin;
    this.#logger = options.logger.child({ component: 'consumer', groupId: options.groupId });
    this.#limits = { ...defaultLimits, ...options.batch };
    this.#metrics = new ConsumerMetrics(options.metrics, options.groupId, () => this.#pending.events.length);
    this.#specsByTopic = new Map(options.specs.map((spec) => [spec.name, { spec, topicId: topicIdOf(spec) }]));
    this.#check = options.check ?? ((event) => checkEvent(event.value, event.timestamp));
    this.joined = new Promise((resolve) => (this.#resolveJoined = resolve));
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    // The caller may only watch `joined`; an unobserved rejection must not crash the process by itself.
    this.done.catch(() => undefined);
  }

  async start(): Promise<void> {
    const { events } = this.#consumer;
    this.#consumer.on(events.GROUP_JOIN, ({ payload }) => this.#onJoin(payload.memberAssignment));
    this.#consumer.on(events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#fail(payload.error);
      else this.#logger.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
    });
    await this.#consumer.run({
      // Offsets are committed only by #commit, after the handler made a batch durable. kafkajs'
      // auto-commit would commit resolved offsets of gathered-but-unhandled records (periodically and
      // on every rebalance), and the records dropped from the pending batch at a rebalance would be lost.
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => {
        const run = this.#eachBatch(payload);
        this.#inFlight = run.then(
          () => undefined,
          () => undefined,
        );
        return run;
      },
    });
    this.#lagTimer = setInterval(() => void this.#refreshLag(), this.#options.lagRefreshMs ?? 15_000);
    this.#lagTimer.unref();
  }

  healthy(): boolean {
    return this.#hasJoined && !this.#stopping && this.#failed === undefined;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return this.done.catch(() => undefined);
    this.#stopping = true;
    clearInterval(this.#lagTimer);
    try {
      if (this.#failed === undefined) {
        try {
          this.#consumer.pause(this.#options.specs.map((s) => ({ topic: s.name })));
        } catch (error) {
          // Not running (between a crash and kafkajs' restart): nothing is being fetched anyway.
          this.#logger.debug({ err: error }, 'pause before stopping');
        }
        await this.#inFlight;
        await this.#handOver();
      }
    } finally {
      await this.#consumer.disconnect().catch((error: unknown) => this.#logger.warn({ err: error }, 'disconnect'));
      await this.#admin.disconnect().catch(() => undefined);
      if (this.#failed === undefined) this.#resolveDone();
      else this.#rejectDone(this.#failed);
    }
  }

  #onJoin(assignment: Record<string, number[]>): void {
    this.#owned = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))),
    );
    const owned = (topic: string, partition: number) => this.#owned.has(partitionKey(topic, partition));
    for (const key of this.#next.keys()) if (!this.#owned.has(key)) this.#next.delete(key);
    this.#pending.retain(owned);
    this.#metrics.retain(owned);
    this.#hasJoined = true;
    this.#logger.info({ assignment }, 'joined the group');
    this.#resolveJoined();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    if (this.#stopping || this.#failed !== undefined || batch.isEmpty()) return;
    const { topic, partition } = batch;
    const subscribed = this.#specsByTopic.get(topic);
    if (!subscribed) return;
    const { spec, topicId } = subscribed;
    this.#metrics.highWatermark(topic, partition, Number(batch.highWatermark));
    const key = partitionKey(topic, partition);
    let next = this.#next.get(key);
    if (next === undefined) {
      next = await this.#resumePosition(spec, batch);
      this.#next.set(key, next);
      if (Number(batch.lastOffset()) < next) {
        // The whole batch is already durable: jump there rather than read the rest one batch at a time.
        this.#consumer.seek({ topic, partition, offset: String(next) });
        this.#pending.add([], 0, { topic, partition, offset: next });
        this.#metrics.records.inc({ topic, outcome: RecordOutcome.SKIPPED }, batch.messages.length);
        this.#scheduleHandOver();
        return;
      }
    }

    const events: ConsumedEvent[] = [];
    const letters: DeadLetter[] = [];
    let bytes = 0;
    let skipped = 0;
    let lastOffset: string | undefined;
    let interrupted: Error | undefined;
    let sinceYield = 0;
    for (const message of batch.messages) {
      // Decoding resolves through microtasks only: without a yield, a large batch would starve the
      // timers (timed hand-overs) and kafkajs' heartbeats, and the group would drop this member.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        try {
          await heartbeat();
        } catch (error) {
          // A rebalance: keep what was processed, then let kafkajs rejoin.
          interrupted = error as Error;
          break;
        }
      }
      if (!payload.isRunning() || payload.isStale() || this.#stopping) break;
      const offset = Number(message.offset);
      if (offset < next) {
        skipped++;
        lastOffset = message.offset;
        continue;
      }
      const outcome = await this.#decode(spec, message, heartbeat);
      if ('failure' in outcome) {
        letters.push(this.#deadLetter(spec, topic, partition, message, outcome.failure));
      } else {
        const event = {
          topic,
          partition,
          offset,
          timestamp: Number(message.timestamp),
          topicId,
          spec,
          value: outcome.value,
        } as ConsumedEvent;
        const failure = this.#check(event);
        if (failure) {
          letters.push(this.#deadLetter(spec, topic, partition, message, failure));
        } else {
          events.push(event);
          bytes += message.value?.length ?? 0;
        }
      }
      next = offset + 1;
      lastOffset = message.offset;
    }
    if (lastOffset === undefined) {
      if (interrupted !== undefined) throw interrupted;
      return;
    }

    await this.#options.deadLetters.publish(letters);
    // Synchronous from here: a timed hand-over sees this fetch's outcome whole or not at all, and
    // never commits past a dead letter the DLQ has not acknowledged.
    this.#next.set(key, next);
    this.#pending.add(events, bytes, { topic, partition, offset: next });
    payload.resolveOffset(lastOffset);
    for (const letter of letters) this.#metrics.deadLetters.inc({ topic, code: letter.failure.code });
    if (letters.length > 0) this.#metrics.records.inc({ topic, outcome: RecordOutcome.DEAD_LETTERED }, letters.length);
    if (skipped > 0) this.#metrics.records.inc({ topic, outcome: RecordOutcome.SKIPPED }, skipped);
    // Back-pressure: a full batch is handed over before more is fetched.
    if (interrupted !== undefined) throw interrupted;
    if (this.#pending.isFull(this.#limits)) await this.#withHeartbeats(this.#handOver(), heartbeat);
    else this.#scheduleHandOver();
    await heartbeat();
  }

  /**
   * Waits for `work` while keeping the group membership alive: kafkajs heartbeats only between
   * batches, and a hand-over can outlast the session timeout. A heartbeat that reports a rebalance
   * throws, ending this batch; the hand-over goes on by itself.
   */
  async #withHeartbeats(work: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
    const intervalMs = this.#options.heartbeatIntervalMs ?? 3_000;
    let finished = false;
    const done = work.then(() => (finished = true));
    while (!finished) {
      await Promise.race([done, sleep(intervalMs)]);
      if (!finished) await heartbeat();
    }
  }

  async #resumePosition(spec: TopicSpecBase, batch: Batch): Promise<number> {
    const fetchedFrom = Number(batch.firstOffset());
    if (!this.#options.resumeFrom) return fetchedFrom;
    // A hand-over in progress may still be writing this partition: ask the store after it finished.
    await this.#handOvers;
    const stored = await this.#options.resumeFrom(spec, batch.partition);
    if (stored === undefined || stored <= fetchedFrom) return fetchedFrom;
    const highWatermark = Number(batch.highWatermark);
    if (stored > highWatermark) {
      throw new StreamProcessorError(
        StreamProcessorErrorCode.STORE_AHEAD_OF_TOPIC,
        `${batch.topic}[${batch.partition}]: the store holds offsets up to ${stored - 1} but the topic ends at ${highWatermark}; was the topic recreated? Point the store elsewhere or move its files away`,
      );
    }
    this.#logger.info(
      { topic: batch.topic, partition: batch.partition, committed: fetchedFrom, resumeAt: stored },
      'resuming after what the store already holds',
    );
    return stored;
  }

  async #decode(
    spec: TopicSpecBase,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<{ value: unknown } | { failure: Failure }> {
    if (message.value === null) {
      return { failure: { code: StreamProcessorErrorCode.EMPTY_VALUE, reason: 'the record has no value (tombstone)' } };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return { value: await this.#options.codec.decode(spec as TopicSpec<unknown>, message.value) };
      } catch (error) {
        if (isSearchOpError(error) && POISON_CODES.has(error.code)) {
          return { failure: { code: error.code, reason: error.message } };
        }
        if (!isSearchOpError(error) || !error.retriable || this.#stopping) throw error;
        const delayMs = Math.min(5_000, 100 * 2 ** attempt);
        this.#logger.warn({ err: error, topic: spec.name, delayMs }, 'decoding failed; retrying');
        await sleep(delayMs);
        await heartbeat();
      }
    }
  }

  #deadLetter(
    spec: TopicSpecBase,
    topic: string,
    partition: number,
    message: KafkaMessage,
    failure: Failure,
  ): DeadLetter {
    this.#logger.warn({ topic, partition, offset: message.offset, code: failure.code }, 'dead-lettering a record');
    return {
      dlqTopic: spec.dlq,
      source: {
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers,
      },
      failure,
    };
  }

  #scheduleHandOver(): void {
    if (this.#timer || !this.#pending.hasWork) return;
    this.#timer = setTimeout(() => void this.#handOver(), this.#limits.maxWaitMs);
  }

  /** Hands the gathered batch to the handler, then commits; one at a time. Never rejects: failures end the runner. */
  #handOver(): Promise<void> {
    const run = this.#handOvers.then(() => this.#handOverNow());
    this.#handOvers = run;
    return run;
  }

  async #handOverNow(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#failed !== undefined || !this.#pending.hasWork) return;
    const batch = this.#pending;
    this.#pending = new PendingBatch();
    const end = this.#metrics.batchSeconds.startTimer();
    try {
      if (batch.events.length > 0) await this.#handleWithRetries(batch.events);
    } catch (error) {
      end({ outcome: 'failure' });
      this.#fail(
        new StreamProcessorError(
          StreamProcessorErrorCode.HANDLER_FAILED,
          `the handler failed on a batch of ${batch.events.length} event(s): ${(error as Error).message}`,
          { cause: error },
        ),
      );
      return;
    }
    await this.#commit(batch.commitPositions());
    end({ outcome: 'success' });
    this.#metrics.batchRecords.observe(batch.events.length);
    const perTopic = new Map<string, number>();
    for (const event of batch.events) perTopic.set(event.topic, (perTopic.get(event.topic) ?? 0) + 1);
    for (const [topic, count] of perTopic)
      this.#metrics.records.inc({ topic, outcome: RecordOutcome.PROCESSED }, count);
    // Records gathered while this batch was being written may already be due.
    if (this.#pending.isFull(this.#limits)) void this.#handOver();
    else this.#scheduleHandOver();
  }

  async #handleWithRetries(events: readonly ConsumedEvent[]): Promise<void> {
    const attempts = this.#options.handlerAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#options.handle(events);
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        const delayMs = 500 * 2 ** attempt;
        this.#logger.warn({ err: error, attempt, delayMs }, 'the handler failed; retrying the batch');
        await sleep(delayMs);
      }
    }
  }

  /**
   * Commits the positions of partitions this member still owns. A failed commit is only logged: the
   * records stay uncommitted and are replayed later, which idempotent handlers absorb.
   */
  async #commit(positions: readonly CommitPosition[]): Promise<void> {
    const owned = positions.filter((p) => this.#owned.has(partitionKey(p.topic, p.partition)));
    if (owned.length === 0) return;
    try {
      await this.#consumer.commitOffsets(
        owned.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset) })),
      );
      for (const p of owned) this.#metrics.committedOffset(p.topic, p.partition, p.offset);
    } catch (error) {
      this.#logger.warn({ err: error }, 'offset commit failed; the batch will be replayed and skipped');
    }
  }

  async #refreshLag(): Promise<void> {
    try {
      const topics = this.#options.specs.map((s) => s.name);
      const [committed, ...ends] = await Promise.all([
        this.#admin.fetchOffsets({ groupId: this.#options.groupId, topics }),
        ...topics.map((topic) => this.#admin.fetchTopicOffsets(topic)),
      ]);
      // Where the group starts on a partition it never committed: lag counts from there, so a group
      // stuck from its very start shows its whole backlog instead of no lag at all.
      const startOffsets = new Map<string, number>();
      const fromBeginning = this.#options.fromBeginning ?? true;
      topics.forEach((topic, i) => {
        for (const p of ends[i] ?? []) {
          const key = partitionKey(topic, p.partition);
          if (!this.#owned.has(key)) continue;
          this.#metrics.highWatermark(topic, p.partition, Number(p.high));
          startOffsets.set(key, Number(fromBeginning ? p.low : p.high));
        }
      });
      for (const { topic, partitions } of committed) {
        for (const p of partitions) {
          const key = partitionKey(topic, p.partition);
          if (!this.#owned.has(key)) continue;
          const offset = Number(p.offset) >= 0 ? Number(p.offset) : startOffsets.get(key);
          if (offset !== undefined) this.#metrics.committedOffset(topic, p.partition, offset);
        }
      }
    } catch (error) {
      this.#logger.debug({ err: error }, 'lag refresh failed');
    }
  }

  #fail(error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = error;
    clearTimeout(this.#timer);
    clearInterval(this.#lagTimer);
    this.#logger.error({ err: error }, 'the consumer runner gives up');
    if (this.#stopping) return;
    this.#stopping = true;
    void Promise.allSettled([this.#consumer.disconnect(), this.#admin.disconnect()]).then(() =>
      this.#rejectDone(
        isSearchOpError(error)
          ? error
          : new StreamProcessorError(StreamProcessorErrorCode.CONSUMER_CRASHED, (error as Error).message, {
              cause: error,
            }),
      ),
    );
  }
}
