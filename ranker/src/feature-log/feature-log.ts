import type { Logger } from '@searchop/runtime';
import type { RankerMetrics } from '../metrics.ts';
import { rankingLogRecord, type RankingLogRecord, type ServedRanking } from './served-ranking.ts';

/** Where feature-log records go (Kafka in production). Resolves when they are durably written. */
export interface RankingLogSink {
  /**
   * Writes the records; returns how many it refused (invalid, or too large for the topic), which are
   * not retried. Rejects when the batch failed.
   */
  send(records: readonly RankingLogRecord[]): Promise<{ refused: number }>;
  close(): Promise<void>;
}

export interface FeatureLogOptions {
  /**
   * Memory the buffered rankings may hold (their feature matrices); beyond it the oldest buffered
   * rankings are dropped and counted. Bytes, not rankings: one ranking of 1,000 candidates holds
   * half a megabyte.
   */
  readonly capacityBytes: number;
  /** Rankings per send, at most. */
  readonly batchSize: number;
  /** Feature bytes per send, at most (at least one ranking): bounds the records built at once. */
  readonly batchBytes?: number;
  /** Pause after a failed send before the next one, so a Kafka outage is not hammered. */
  readonly retryDelayMs?: number;
  /**
   * Sends a ranking may fail before it is dropped: a failed batch goes back to the head of the
   * buffer and is sent again, so the records of an outage's last moments are written once Kafka is
   * back, while a batch Kafka keeps refusing cannot hold up the log for ever.
   */
  readonly maxAttempts?: number;
  /** How long close() keeps sending what is buffered before dropping the rest. */
  readonly closeTimeoutMs?: number;
}

/** The feature log as the request path sees it. */
export interface FeatureLogWriter {
  /** Never blocks and never throws: false when the ranking was dropped. */
  offer(ranking: ServedRanking): boolean;
}

/** What a buffered ranking keeps alive: its feature matrix, plus the rest, roughly. */
const weightOf = (ranking: ServedRanking) => ranking.features.byteLength + 64 * ranking.ids.length + 512;

interface Entry {
  readonly ranking: ServedRanking;
  readonly weight: number;
  /** Failed sends so far. */
  attempts: number;
}

/**
 * The asynchronous, bounded feature log: offer() only appends to an in-memory buffer and returns;
 * a background loop turns rankings into records and sends them in batches, after the response is
 * written. When Kafka is slow or away the buffer fills and its oldest rankings are dropped with
 * feature_log_dropped_total{reason="buffer_full"} — the newest are kept, so a ranking served once
 * Kafka is back is always logged, and a ranking is never delayed or failed for the log's sake. A
 * failed batch is put back and sent again (up to maxAttempts), so logging resumes by itself when
 * Kafka returns, without waiting for new traffic.
 */
export class FeatureLog implements FeatureLogWriter {
  readonly #sink: RankingLogSink;
  readonly #options: Required<FeatureLogOptions>;
  readonly #metrics: RankerMetrics;
  readonly #logger: Logger;
  /** Oldest first; entries before #head are already taken (a queue without Array#shift's copying). */
  #buffer: Entry[] = [];
  #head = 0;
  #bufferedBytes = 0;
  #draining: Promise<void> | undefined;
  #closed = false;
  #abandoned = false;
  #lastFailureLog = 0;

  constructor(sink: RankingLogSink, options: FeatureLogOptions, metrics: RankerMetrics, logger: Logger) {
    this.#sink = sink;
    this.#options = {
      retryDelayMs: 1_000,
      maxAttempts: 10,
      closeTimeoutMs: 5_000,
      batchBytes: 8 * 1_048_576,
      ...options,
    };
    this.#metrics = metrics;
    this.#logger = logger.child({ component: 'feature-log' });
  }

  offer(ranking: ServedRanking): boolean {
    const weight = weightOf(ranking);
    if (this.#closed || weight > this.#options.capacityBytes) {
      this.#metrics.featureLogDropped.inc({ reason: this.#closed ? 'closed' : 'buffer_full' });
      return false;
    }
    this.#buffer.push({ ranking, weight, attempts: 0 });
    this.#bufferedBytes += weight;
    this.#evictBeyondCapacity();
    this.#metrics.featureLogBuffered.set(this.buffered);
    // The drain starts after the current tick, so the response is written first.
    this.#draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
    return true;
  }

  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /**
   * Stops taking rankings and sends what is buffered for up to closeTimeoutMs (shutdown must not
   * wait on a Kafka outage); what is left then is dropped and counted. Closes the sink.
   */
  async close(): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.closeTimeoutMs);
    });
    await Promise.race([this.#draining, deadline]);
    clearTimeout(timer);
    this.#abandoned = true;
    if (this.buffered > 0) {
      this.#metrics.featureLogDropped.inc({ reason: 'closed' }, this.buffered);
      this.#take(this.buffered);
    }
    await this.#sink.close();
  }

  /** Drops the oldest rankings until the buffer is within its capacity (the newest always stays). */
  #evictBeyondCapacity(): void {
    let evicted = 0;
    while (this.#bufferedBytes > this.#options.capacityBytes && this.buffered > 1) {
      this.#bufferedBytes -= this.#buffer[this.#head]!.weight;
      this.#head++;
      evicted++;
    }
    if (evicted > 0) {
      this.#metrics.featureLogDropped.inc({ reason: 'buffer_full' }, evicted);
      this.#compact();
    }
  }

  /** Forgets taken entries once they are half the array, so the queue stays O(1) amortised. */
  #compact(): void {
    if (this.#head > 1_024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
  }

  /** The next entries, up to `count` and (beyond the first) `maxBytes` of feature weight. */
  #take(count: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    let n = 0;
    let bytes = 0;
    while (n < count && n < this.buffered) {
      const weight = this.#buffer[this.#head + n]!.weight;
      if (n > 0 && bytes + weight > maxBytes) break;
      bytes += weight;
      n++;
    }
    const batch = this.#buffer.slice(this.#head, this.#head + n);
    this.#head += n;
    this.#bufferedBytes -= bytes;
    this.#compact();
    this.#metrics.featureLogBuffered.set(this.buffered);
    return batch;
  }

  /** Puts a failed batch back at the head, ahead of what was offered meanwhile, within the capacity. */
  #putBack(batch: readonly Entry[]): void {
    this.#buffer = [...batch, ...this.#buffer.slice(this.#head)];
    this.#head = 0;
    for (const entry of batch) this.#bufferedBytes += entry.weight;
    this.#evictBeyondCapacity();
    this.#metrics.featureLogBuffered.set(this.buffered);
  }

  async #drain(): Promise<void> {
    try {
      while (this.buffered > 0 && !this.#abandoned) {
        const batch: Entry[] = [];
        const records: RankingLogRecord[] = [];
        for (const entry of this.#take(this.#options.batchSize, this.#options.batchBytes)) {
          try {
            records.push(rankingLogRecord(entry.ranking));
            batch.push(entry);
          } catch (error) {
            this.#metrics.featureLogDropped.inc({ reason: 'refused' });
            this.#logFailure(error, 1);
          }
        }
        if (records.length === 0) continue;
        try {
          const { refused } = await this.#sink.send(records);
          this.#metrics.featureLogSent.inc(records.length - refused);
          if (refused > 0) this.#metrics.featureLogDropped.inc({ reason: 'refused' }, refused);
        } catch (error) {
          const retry = batch.filter((entry) => ++entry.attempts < this.#options.maxAttempts);
          const dropped = batch.length - retry.length;
          if (dropped > 0) this.#metrics.featureLogDropped.inc({ reason: 'send_failed' }, dropped);
          this.#logFailure(error, dropped);
          if (this.#closed) {
            if (retry.length > 0) this.#metrics.featureLogDropped.inc({ reason: 'closed' }, retry.length);
            break;
          }
          this.#putBack(retry);
          await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs));
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** At most one log line per 10 s: an outage should not flood the logs. */
  #logFailure(error: unknown, dropped: number): void {
    const now = Date.now();
    if (now - this.#lastFailureLog < 10_000) return;
    this.#lastFailureLog = now;
    this.#logger.warn(
      { err: error, dropped, buffered: this.buffered },
      'feature log send failed; retrying, rankings beyond the buffer or the attempts dropped',
    );
  }
}
