import { partitionKey, type ConsumedEvent } from './records.ts';

/** When the runner hands what it gathered to the handler: whichever limit is reached first. */
export interface BatchLimits {
  readonly maxRecords: number;
  /** Sum of the records' encoded (Kafka value) sizes. */
  readonly maxBytes: number;
  /** Age of the oldest record gathered. */
  readonly maxWaitMs: number;
}

export interface CommitPosition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume: every record below it is durable or dead-lettered. */
  readonly offset: number;
}

/**
 * The records gathered since the last hand-over, across fetches and partitions, and the position up
 * to which each partition may be committed once the handler made them durable. The position also
 * covers records that produced no event (dead letters, replays skipped), so it can run ahead of
 * the last event of a partition.
 */
export class PendingBatch {
  readonly events: ConsumedEvent[] = [];
  #bytes = 0;
  readonly #bytesByPartition = new Map<string, number>();
  readonly #positions = new Map<string, CommitPosition>();

  get bytes(): number {
    return this.#bytes;
  }

  /** True when there is something to hand over or commit. */
  get hasWork(): boolean {
    return this.events.length > 0 || this.#positions.size > 0;
  }

  isFull(limits: BatchLimits): boolean {
    return this.events.length >= limits.maxRecords || this.#bytes >= limits.maxBytes;
  }

  /** Adds the outcome of one fetched batch of one partition. */
  add(events: readonly ConsumedEvent[], bytes: number, position: CommitPosition): void {
    const key = partitionKey(position.topic, position.partition);
    for (const event of events) this.events.push(event);
    this.#bytes += bytes;
    this.#bytesByPartition.set(key, (this.#bytesByPartition.get(key) ?? 0) + bytes);
    this.#positions.set(key, position);
  }

  commitPositions(): CommitPosition[] {
    return [...this.#positions.values()];
  }

  /** Forgets partitions this member no longer owns: their new owner replays from the committed offset. */
  retain(owned: (topic: string, partition: number) => boolean): void {
    for (const [key, position] of this.#positions) {
      if (owned(position.topic, position.partition)) continue;
      this.#positions.delete(key);
      this.#bytes -= this.#bytesByPartition.get(key) ?? 0;
      this.#bytesByPartition.delete(key);
    }
    let kept = 0;
    for (const event of this.events) if (owned(event.topic, event.partition)) this.events[kept++] = event;
    this.events.length = kept;
  }
}
