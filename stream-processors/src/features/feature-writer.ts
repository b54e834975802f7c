import type { RedisClient } from '@searchop/runtime';
import calculateSlot from 'cluster-key-slot';
import {
  COUNTER_TTL_SECONDS,
  GRANULARITIES,
  catalogEntryOf,
  fenceSource,
  incrementsOf,
  type BehaviourEvent,
  type EntityRef,
  type Increment,
  type KeyLayout,
  type ProductChange,
  type TopicSpecBase,
} from '@searchop/schemas';
import { StreamProcessorError, StreamProcessorErrorCode } from '../consumer/errors.ts';
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

/** A key's updates from one source (topic partition) in one batch: summed per finest tile. */
interface Segment {
  readonly source: number;
  minOffset: number;
  maxOffset: number;
  /** Finest tile index of each entry. */
  readonly tiles: number[];
  /** ENTRY_VALUES per entry: latest event time, impressions, clicks, carts, purchases, latest click, latest purchase. */
  readonly values: number[];
  /** Finest tile → entry, once the segment has many entries (a linear search is faster for few). */
  byTile?: Map<number, number>;
}

interface KeyUpdate {
  readonly key: string;
  readonly segments: Segment[];
}

type ScriptReply = number[];

type ApplyIncrements = (...keysAndArgs: (string | number | Buffer)[]) => Promise<ScriptReply>;

interface ScriptedRedis {
  applyCatalog(...keysAndArgs: (string | number)[]): Promise<number>;
}

export interface FeatureWriterOptions {
  /** Keys per script call at most (calls also stop at maxBytesPerCall of arguments). */
  readonly maxKeysPerCall?: number;
  readonly maxBytesPerCall?: number;
}

const ENTRY_VALUES = 7;
const ENTRY_BYTES = ENTRY_VALUES * 8;
const SEGMENT_HEADER_BYTES = 2 + 8 + 8 + 2;
const FINEST_TILE_MS = GRANULARITIES.fiveMinutes.tileMs;

/**
 * Writes feature updates to Redis exactly once with respect to Kafka offsets (DESIGN-NOTES:
 * "Exactly-once effect from Kafka into Redis"). A batch's increments are summed in memory per
 * entity key, per source partition and per 5-minute tile; keys are then grouped — by hash slot on a
 * Redis Cluster, in chunks on a single Redis — and each group is one call of a script that, per
 * key, checks and moves that key's fence for each source in the same SET as the counts. Calls are
 * issued together (ioredis auto-pipelining: one round trip per node). Resolves only when Redis has
 * answered every call, so the runner may then commit.
 */
export class FeatureWriter {
  readonly #redis: RedisClient & ScriptedRedis;
  readonly #keys: KeyLayout;
  readonly #maxKeys: number;
  readonly #maxBytes: number;
  readonly #cluster: boolean;

  constructor(redis: RedisClient, keys: KeyLayout, options: FeatureWriterOptions = {}) {
    if (!('applyCatalog' in redis)) redis.defineCommand('applyCatalog', { numberOfKeys: 4, lua: APPLY_CATALOG_LUA });
    this.#redis = redis as RedisClient & ScriptedRedis;
    this.#keys = keys;
    this.#maxKeys = options.maxKeysPerCall ?? 500;
    this.#maxBytes = options.maxBytesPerCall ?? 1024 * 1024;
    this.#cluster = (redis as { isCluster?: boolean }).isCluster === true;
    FeatureWriter.#defineScripts(redis, this.#maxKeys);
  }

  async applyBehaviour(events: readonly SourcedEvent<BehaviourEvent>[]): Promise<ApplyResult> {
    const updates = new UpdateIndex(this.#keys);
    for (const { spec, partition, offset, event } of events) {
      const source = fenceSource(spec, partition);
      for (const { entity, increment } of incrementsOf(event)) {
        addToSegment(segmentOf(updates.of(entity), source, offset), increment);
      }
    }
    const result = { applied: 0, replayed: 0, late: 0 };
    const straddling = await this.#write(updates.all, result);
    if (straddling.length > 0) await this.#retryStraddling(events, straddling, result);
    return result;
  }

  /** Writes updates in grouped script calls; returns the (key, source) segments refused as straddling. */
  async #write(
    updates: readonly KeyUpdate[],
    result: { applied: number; replayed: number; late: number },
  ): Promise<{ key: string; source: number }[]> {
    const calls = this.#group(updates);
    const replies = await Promise.all(calls.map((call) => this.#call(call)));
    const straddling: { key: string; source: number }[] = [];
    replies.forEach((reply, c) => {
      let i = 0;
      for (const update of calls[c]!) {
        for (const segment of update.segments) {
          const status = reply[i++];
          if (status === 1) result.applied++;
          else if (status === 0) result.replayed++;
          else straddling.push({ key: update.key, source: segment.source });
        }
      }
      result.late += reply[i] ?? 0;
    });
    return straddling;
  }

  /**
   * Rare: a replay after a crash whose batch straddles a key's fence for a source. The key's events
   * from that source are re-sent as one segment per offset, in offset order, in one call per key:
   * offsets at or below the fence are skipped by the script, the rest applied.
   */
  async #retryStraddling(
    events: readonly SourcedEvent<BehaviourEvent>[],
    straddling: readonly { key: string; source: number }[],
    result: { applied: number; replayed: number; late: number },
  ): Promise<void> {
    const wanted = new Map<string, Set<number>>();
    for (const { key, source } of straddling) {
      let sources = wanted.get(key);
      if (!sources) wanted.set(key, (sources = new Set()));
      sources.add(source);
    }
    const updates = new Map<string, KeyUpdate>();
    const sorted = [...events].sort((a, b) => a.offset - b.offset);
    for (const { spec, partition, offset, event } of sorted) {
      const source = fenceSource(spec, partition);
      for (const { entity, increment } of incrementsOf(event)) {
        const key = this.#keys.counters(entity);
        if (!wanted.get(key)?.has(source)) continue;
        let update = updates.get(key);
        if (!update) updates.set(key, (update = { key, segments: [] }));
        const last = update.segments.at(-1);
        const segment =
          last && last.source === source && last.minOffset === offset
            ? last
            : (update.segments[update.segments.length] = newSegment(source, offset));
        addToSegment(segment, increment);
      }
    }
    // Each key alone in its call: the one-segment-per-offset form can be long.
    for (const update of updates.values()) {
      const left = await this.#write([update], result);
      if (left.length > 0) {
        throw new StreamProcessorError(
          StreamProcessorErrorCode.HANDLER_FAILED,
          `the fence of ${update.key} refused single-offset updates: its state is inconsistent`,
        );
      }
    }
  }

  /** Script calls: keys of one slot (cluster) or any keys (single Redis), within the per-call limits. */
  #group(updates: readonly KeyUpdate[]): KeyUpdate[][] {
    const calls: KeyUpdate[][] = [];
    const open = new Map<number, { updates: KeyUpdate[]; bytes: number }>();
    for (const update of updates) {
      const group = this.#cluster ? calculateSlot(update.key) : 0;
      const bytes = updateBytes(update) + update.key.length;
      let call = open.get(group);
      if (call && (call.updates.length >= this.#maxKeys || call.bytes + bytes > this.#maxBytes)) {
        calls.push(call.updates);
        call = undefined;
      }
      if (!call) open.set(group, (call = { updates: [], bytes: 0 }));
      call.updates.push(update);
      call.bytes += bytes;
    }
    for (const call of open.values()) calls.push(call.updates);
    return calls;
  }

  #call(updates: readonly KeyUpdate[]): Promise<ScriptReply> {
    let size = 0;
    for (const update of updates) size += updateBytes(update);
    // Padding keys (see #defineScripts) read as zero segments: the blob is zero-filled past the updates.
    const blob = Buffer.alloc(size + 2 * updates.length);
    let at = 0;
    for (const { segments } of updates) {
      at = blob.writeUInt16LE(segments.length, at);
      for (const segment of segments) {
        at = blob.writeUInt16LE(segment.source, at);
        at = blob.writeDoubleLE(segment.minOffset, at);
        at = blob.writeDoubleLE(segment.maxOffset, at);
        at = blob.writeUInt16LE(segment.tiles.length, at);
        for (const value of segment.values) at = blob.writeDoubleLE(value, at);
      }
    }
    let n = 1;
    while (n < updates.length) n *= 2;
    const keys = updates.map((u) => u.key);
    while (keys.length < n) keys.push(keys[keys.length - 1]!);
    const command = (this.#redis as unknown as Record<string, ApplyIncrements>)[`searchopApplyIncrements${n}`]!;
    return command.call(this.#redis, ...keys, COUNTER_TTL_SECONDS, blob);
  }

  /**
   * The script as a command taking a fixed number of keys. ioredis auto-pipelining routes a command
   * on a cluster by its first argument, so the keys must come first and the key count must be part
   * of the command's definition, not an argument; and a command must be defined before any pipeline
   * that carries it is created. So the constructor defines the script (one SHA) for key counts of
   * powers of two, and a call pads its keys to the next one by repeating its last key with no
   * segments (read again, never written).
   */
  static #defineScripts(redis: RedisClient, maxKeys: number): void {
    for (let n = 1; ; n *= 2) {
      const name = `searchopApplyIncrements${n}`;
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: n, lua: APPLY_INCREMENTS_LUA });
      if (n >= maxKeys) break;
    }
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

/**
 * The batch's updates by entity, without building a key string per increment: nested maps by
 * product, query and (query, product); the key is built once per entity.
 */
class UpdateIndex {
  readonly all: KeyUpdate[] = [];
  readonly #keys: KeyLayout;
  readonly #products = new Map<string, KeyUpdate>();
  readonly #queries = new Map<string, KeyUpdate>();
  readonly #pairs = new Map<string, Map<string, KeyUpdate>>();
  #global: KeyUpdate | undefined;

  constructor(keys: KeyLayout) {
    this.#keys = keys;
  }

  of(entity: EntityRef): KeyUpdate {
    switch (entity.kind) {
      case 'global':
        return (this.#global ??= this.#add(entity));
      case 'product':
        return this.#lookup(this.#products, entity.productId, entity);
      case 'query':
        return this.#lookup(this.#queries, entity.query, entity);
      case 'pair': {
        let byProduct = this.#pairs.get(entity.query);
        if (!byProduct) this.#pairs.set(entity.query, (byProduct = new Map<string, KeyUpdate>()));
        return this.#lookup(byProduct, entity.productId, entity);
      }
    }
  }

  #lookup(map: Map<string, KeyUpdate>, id: string, entity: EntityRef): KeyUpdate {
    let update = map.get(id);
    if (!update) map.set(id, (update = this.#add(entity)));
    return update;
  }

  #add(entity: EntityRef): KeyUpdate {
    const update: KeyUpdate = { key: this.#keys.counters(entity), segments: [] };
    this.all.push(update);
    return update;
  }
}

function newSegment(source: number, offset: number): Segment {
  return { source, minOffset: offset, maxOffset: offset, tiles: [], values: [] };
}

/** The key's segment for `source`, created or widened to `offset`. */
function segmentOf(update: KeyUpdate, source: number, offset: number): Segment {
  const { segments } = update;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.source !== source) continue;
    if (offset < segment.minOffset) segment.minOffset = offset;
    if (offset > segment.maxOffset) segment.maxOffset = offset;
    return segment;
  }
  const segment = newSegment(source, offset);
  segments.push(segment);
  return segment;
}

/**
 * Adds an increment to the entry of its finest (5-minute) tile: increments in one such tile share
 * every coarser tile too, so the script's lateness decisions and counts are the same as for the
 * increments one by one.
 */
function addToSegment(segment: Segment, { at, counts }: Increment): void {
  const tile = Math.floor(at / FINEST_TILE_MS);
  const { tiles, values } = segment;
  let e = segment.byTile ? (segment.byTile.get(tile) ?? -1) : tiles.lastIndexOf(tile);
  if (e < 0) {
    e = tiles.length;
    tiles.push(tile);
    values.push(at, 0, 0, 0, 0, 0, 0);
    if (segment.byTile) segment.byTile.set(tile, e);
    else if (tiles.length === 16) segment.byTile = new Map(tiles.map((t, i) => [t, i]));
  }
  const v = e * ENTRY_VALUES;
  const clicks = counts.clicks ?? 0;
  const purchases = counts.purchases ?? 0;
  if (at > values[v]!) values[v] = at;
  values[v + 1]! += counts.impressions ?? 0;
  values[v + 2]! += clicks;
  values[v + 3]! += counts.carts ?? 0;
  values[v + 4]! += purchases;
  if (clicks > 0 && at > values[v + 5]!) values[v + 5] = at;
  if (purchases > 0 && at > values[v + 6]!) values[v + 6] = at;
}

function updateBytes(update: KeyUpdate): number {
  let bytes = 2;
  for (const segment of update.segments) bytes += SEGMENT_HEADER_BYTES + segment.tiles.length * ENTRY_BYTES;
  return bytes;
}
