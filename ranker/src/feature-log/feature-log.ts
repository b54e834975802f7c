import type { Logger } from '@searchop/runtime';
import type { RankingLog } from '@searchop/schemas';
import type { RankerMetrics } from '../metrics.ts';
import { rankingLogRecord, type ServedRanking } from './served-ranking.ts';

/** Where feature-log records go (Kafka in production). Resolves when they are durably written. */
export interface RankingLogSink {
  /**
   * Writes the records; returns how many it refused (invalid, or too large for the topic), which are
   * not retried. Rejects when the batch failed.
   */
  send(records: readonly RankingLog[]): Promise<{ refused: number }>;
  close(): Promise<void>;
}

export interface FeatureLogOptions {
  /**
   * Memory the buffered rankings may hold (their feature matrices); a ranking offered beyond it is
   * dropped and counted. Bytes, not rankings: one ranking of 1,000 candidates holds half a megabyte.
   */
  readonly capacityBytes: number;
  /** Rankings per send, at most. */
  readonly batchSize: number;
  /** Feature bytes per send, at most (at least one ranking): bounds the records built at once. */
  readonly batchBytes?: number;
  /** Pause after a failed send before the next one, so a Kafka outage is not hammered. */
  readonly retryDelayMs?: number;
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

/**
 * The asynchronous, bounded feature log: offer() only appends to an in-memory buffer and returns;
 * a background loop turns rankings into records and sends them in batches. When Kafka is slow or
 * away the buffer fills and further rankings are dropped with feature_log_dropped_total — a ranking
 * is never delayed or failed for the log's sake. A failed batch is dropped too (kafkajs has already
 * retried it); what the trainer misses of an outage is counted, not replayed.
 */
export class FeatureLog implements FeatureLogWriter {
  readonly #sink: RankingLogSink;
  readonly #options: Required<FeatureLogOptions>;
  readonly #metrics: RankerMetrics;
  readonly #logger: Logger;
  #buffer: ServedRanking[] = [];
  #bufferedBytes = 0;
  #draining: Promise<void> | undefined;
  #closed = false;
  #abandoned = false;
  #lastFailureLog = 0;

  constructor(sink: RankingLogSink, options: FeatureLogOptions, metrics: RankerMetrics, logger: Logger) {
    this.#sink = sink;
    this.#options = { retryDelayMs: 1_000, closeTimeoutMs: 5_000, batchBytes: 8 * 1_048_576, ...options };
    this.#metrics = metrics;
    this.#logger = logger.child({ component: 'feature-log' });
  }

  offer(ranking: ServedRanking): boolean {
    const weight = weightOf(ranking);
    if (this.#closed || this.#bufferedBytes + weight > this.#options.capacityBytes) {
      this.#metrics.featureLogDropped.inc({ reason: this.#closed ? 'closed' : 'buffer_full' });
      return false;
    }
    this.#buffer.push(ranking);
    this.#bufferedBytes += weight;
    this.#metrics.featureLogBuffered.set(this.#buffer.length);
    // The drain starts after the current tick, so the response is written first.
    this.#draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
    return true;
  }

  get buffered(): number {
    return this.#buffer.length;
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
    if (this.#buffer.length > 0) {
      this.#metrics.featureLogDropped.inc({ reason: 'closed' }, this.#buffer.length);
      this.#take(this.#buffer.length);
    }
    await this.#sink.close();
  }

  /** The next rankings, up to `count` and (beyond the first) `maxBytes` of feature weight. */
  #take(count: number, maxBytes = Number.POSITIVE_INFINITY): ServedRanking[] {
    let n = 0;
    let bytes = 0;
    while (n < count && n < this.#buffer.length) {
      const weight = weightOf(this.#buffer[n]!);
      if (n > 0 && bytes + weight > maxBytes) break;
      bytes += weight;
      n++;
    }
    const batch = this.#buffer.splice(0, n);
    this.#bufferedBytes -= bytes;
    this.#metrics.featureLogBuffered.set(this.#buffer.length);
    return batch;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#buffer.length > 0 && !this.#abandoned) {
        const records: RankingLog[] = [];
        for (const ranking of this.#take(this.#options.batchSize, this.#options.batchBytes)) {
          try {
            records.push(rankingLogRecord(ranking));
          } catch (error) {
            this.#metrics.featureLogDropped.inc({ reason: 'refused' });
            this.#logFailure(error, 1);
          }
        }
        try {
          const { refused } = await this.#sink.send(records);
          this.#metrics.featureLogSent.inc(records.length - refused);
          if (refused > 0) this.#metrics.featureLogDropped.inc({ reason: 'refused' }, refused);
        } catch (error) {
          this.#metrics.featureLogDropped.inc({ reason: 'send_failed' }, records.length);
          this.#logFailure(error, records.length);
          if (this.#closed) break;
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
      { err: error, dropped, buffered: this.#buffer.length },
      'feature log send failed; rankings dropped',
    );
  }
}
