import type { RedisClient } from '@searchop/runtime';
import {
  COUNTER_TTL_SECONDS,
  GRANULARITIES,
  catalogEntryOf,
  fenceSource,
  incrementsOf,
  type BehaviourEvent,
  type Increment,
  type KeyLayout,
  type ProductChange,
  type TopicSpecBase,
} from '@searchop/schemas';
import { APPLY_CATALOG_LUA, APPLY_INCREMENTS_LUA } from './scripts.ts';

/** One decoded record of a batch, with its Kafka coordinates. */
export interface SourcedEvent<E> {
  readonly spec: TopicSpecBase;
  readonly partition: number;
  readonly offset: number;
  readonly event: E;
}

export interface ApplyResult {
  /** Entity updates applied (one per key and source in the batch, plus event-by-event retries). */
  readonly applied: number;
  /** Entity updates skipped because their fence showed them already applied (replays). */
  readonly replayed: number;
  /** (increment, granularity) pairs older than the granularity's retention: not counted there. */
  readonly late: number;
}

interface KeyUpdate {
  readonly key: string;
  readonly source: number;
  minOffset: number;
  maxOffset: number;
  readonly increments: Increment[];
  /** The same increments by offset, for the event-by-event retry of a straddling replay. */
  readonly byOffset: Map<number, Increment[]>;
}

type ScriptReply = [number, number];

interface ScriptedRedis {
  applyIncrements(
    key: string,
    source: number,
    minOffset: number,
    maxOffset: number,
    ttl: number,
    entries: Buffer,
  ): Promise<ScriptReply>;
  applyCatalog(...keysAndArgs: (string | number)[]): Promise<number>;
}

/**
 * Writes feature updates to Redis exactly once with respect to Kafka offsets (DESIGN-NOTES:
 * "Exactly-once effect from Kafka into Redis"): a batch's increments are aggregated per entity key,
 * each key is updated by one atomic script that checks and moves that key's fence for the source
 * partition. Resolves only when Redis has answered every update, so the runner may then commit.
 */
export class FeatureWriter {
  readonly #redis: RedisClient & ScriptedRedis;
  readonly #keys: KeyLayout;

  constructor(redis: RedisClient, keys: KeyLayout) {
    if (!('applyIncrements' in redis)) {
      redis.defineCommand('applyIncrements', { numberOfKeys: 1, lua: APPLY_INCREMENTS_LUA });
      redis.defineCommand('applyCatalog', { numberOfKeys: 4, lua: APPLY_CATALOG_LUA });
    }
    this.#redis = redis as RedisClient & ScriptedRedis;
    this.#keys = keys;
  }

  async applyBehaviour(events: readonly SourcedEvent<BehaviourEvent>[]): Promise<ApplyResult> {
    const updates = new Map<string, KeyUpdate>();
    for (const { spec, partition, offset, event } of events) {
      const source = fenceSource(spec, partition);
      for (const { entity, increment } of incrementsOf(event)) {
        const key = this.#keys.counters(entity);
        const id = `${source}\u0000${key}`;
        let update = updates.get(id);
        if (!update) {
          update = { key, source, minOffset: offset, maxOffset: offset, increments: [], byOffset: new Map() };
          updates.set(id, update);
        }
        update.minOffset = Math.min(update.minOffset, offset);
        update.maxOffset = Math.max(update.maxOffset, offset);
        update.increments.push(increment);
        const atOffset = update.byOffset.get(offset);
        if (atOffset) atOffset.push(increment);
        else update.byOffset.set(offset, [increment]);
      }
    }
    let applied = 0;
    let replayed = 0;
    let late = 0;
    const straddling: KeyUpdate[] = [];
    // Issued together: ioredis auto-pipelining sends them in one round trip per Redis node.
    const replies = await Promise.all(
      [...updates.values()].map((u) =>
        this.#apply(u.key, u.source, u.minOffset, u.maxOffset, u.increments).then((r) => [u, r] as const),
      ),
    );
    for (const [update, [status, lateCount]] of replies) {
      if (status === 1) applied++;
      else if (status === 0) replayed++;
      else straddling.push(update);
      late += lateCount;
    }
    // Rare: a replay after a crash whose batch straddles a key's fence. Offsets at or below the
    // fence are skipped by the script, the rest applied, in offset order.
    for (const update of straddling) {
      for (const offset of [...update.byOffset.keys()].sort((a, b) => a - b)) {
        const [status, lateCount] = await this.#apply(
          update.key,
          update.source,
          offset,
          offset,
          update.byOffset.get(offset)!,
        );
        if (status === 1) applied++;
        else replayed++;
        late += lateCount;
      }
    }
    return { applied, replayed, late };
  }

  #apply(
    key: string,
    source: number,
    minOffset: number,
    maxOffset: number,
    increments: readonly Increment[],
  ): Promise<ScriptReply> {
    return this.#redis.applyIncrements(
      key,
      source,
      minOffset,
      maxOffset,
      COUNTER_TTL_SECONDS,
      packIncrements(increments),
    );
  }

  /**
   * Applies catalogue records in offset order. They are issued together: on one connection (all
   * catalogue keys share a slot) Redis runs them in the order sent, which is what each product's
   * successive versions need.
   */
  async applyCatalog(records: readonly SourcedEvent<ProductChange>[]): Promise<ApplyResult> {
    const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const statuses = await Promise.all(
      sorted.map(({ spec, partition, offset, event }) => {
        const entry = event.op === 'UPSERT' && event.product ? catalogEntryOf(event.product) : undefined;
        return this.#redis.applyCatalog(
          this.#keys.productCatalog(event.product_id),
          this.#keys.textDocumentFrequency(),
          this.#keys.textStats(),
          this.#keys.catalogFences(),
          fenceSource(spec, partition),
          offset,
          entry ? 'UPSERT' : 'DELETE',
          entry ? JSON.stringify(entry) : '',
          ...(entry?.t ?? []),
        );
      }),
    );
    const applied = statuses.filter((s) => s === 1).length;
    return { applied, replayed: statuses.length - applied, late: 0 };
  }
}

const FINEST_TILE_MS = GRANULARITIES.fiveMinutes.tileMs;

/**
 * Sums increments per finest (5-minute) tile — they share every coarser tile, so the script's
 * lateness decisions and counts are the same as for the increments one by one — and packs them as
 * the script's binary argument: 7 little-endian doubles per tile.
 */
export function packIncrements(increments: readonly Increment[]): Buffer {
  const byTile = new Map<number, number[]>();
  for (const { at, counts } of increments) {
    const tile = Math.floor(at / FINEST_TILE_MS);
    let entry = byTile.get(tile);
    if (!entry) {
      entry = [at, 0, 0, 0, 0, 0, 0];
      byTile.set(tile, entry);
    }
    entry[0] = Math.max(entry[0]!, at);
    entry[1]! += counts.impressions ?? 0;
    entry[2]! += counts.clicks ?? 0;
    entry[3]! += counts.carts ?? 0;
    entry[4]! += counts.purchases ?? 0;
    if ((counts.clicks ?? 0) > 0) entry[5] = Math.max(entry[5]!, at);
    if ((counts.purchases ?? 0) > 0) entry[6] = Math.max(entry[6]!, at);
  }
  const buffer = Buffer.allocUnsafe(byTile.size * 56);
  let offset = 0;
  for (const entry of byTile.values()) for (const value of entry) offset = buffer.writeDoubleLE(value, offset);
  return buffer;
}
