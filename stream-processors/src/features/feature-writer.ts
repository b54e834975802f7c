import { isRedisCluster, type RedisClient } from '@searchop/runtime';
import calculateSlot from 'cluster-key-slot';
import {
  COUNTER_TTL_SECONDS,
  EntityState,
  applyIncrements,
  catalogEntryOf,
  decodeState,
  encodeStateInto,
  encodeStateStampInto,
  encodedStateLength,
  FENCE_BYTES,
  PAIR_FENCES_FIELD,
  fenceSource,
  pairField,
  visitIncrements,
  type BehaviourEvent,
  type Increment,
  type EntityRef,
  type IncrementVisitor,
  type KeyLayout,
  type ProductChange,
  type TopicSpecBase,
} from '@searchop/schemas';
import { StreamProcessorError, StreamProcessorErrorCode } from '../consumer/errors.ts';
import { APPLY_CATALOG_LUA, COMPARE_AND_SET_PAIRS_LUA, COMPARE_AND_SET_STATES_LUA, scriptName } from './scripts.ts';

/** One decoded record of a batch, with its Kafka coordinates. */
export interface SourcedEvent<E> {
  readonly spec: TopicSpecBase;
  readonly partition: number;
  readonly offset: number;
  readonly event: E;
}

export interface ApplyResult {
  /** Entity states written (one per key of the batch with anything new). */
  readonly applied: number;
  /** Entity states left alone because their fences showed every update already applied (replays). */
  readonly replayed: number;
  /** (increment, granularity) pairs older than the granularity's retention: not counted there. */
  readonly late: number;
  /** Compare-and-set misses: another writer had changed the state; it was read again and recomputed. */
  readonly contended: number;
}

/**
 * An entity this writer knows: where its value is (built once), the state it last read or wrote —
 * which is also the value Redis holds, so the stamp a compare-and-set expects is encoded from it — and
 * the increments of the batch being applied (a list through the batch's table of increments, with the
 * source — topic partition — and offset of each). A product's, a query's and the global counters are a
 * key each; a pair is a field of its query's pairs hash (its `group`), whose fences it shares.
 */
interface Entity {
  readonly kind: EntityRef['kind'];
  readonly query: string;
  readonly productId: string;
  /** The entity's key; for a pair, its group's key. */
  readonly key: string;
  /** A pair's field in its group's hash ('' for the other kinds). */
  readonly field: string;
  /** A pair's query pairs hash. */
  readonly group: PairGroup | undefined;
  /** Hash slot of the key on a Redis Cluster (-1: not computed yet). */
  slot: number;
  /** Undefined: not known (never read, or a compare-and-set failed): read it before use. */
  state: EntityState | undefined;
  /** The key held nothing when read, and this writer has not written it since: expect it absent. */
  absent: boolean;
  /** A pair's state is valid only for the group generation it was read or written in. */
  generation: number;
  /** The batch's increments: `count` of them, from `first` to `last` in the EntityTable's list. */
  count: number;
  first: number;
  last: number;
}

/**
 * A query's pairs hash: its fences (one set for all its pairs — an event's pairs are all of its query,
 * and the writer writes a hash's changed pairs and its fences in one script call) as last read or
 * written, and the pairs of the batch being applied. When another writer is found to have changed the
 * hash, its generation moves on: every pair state known from before is then stale and read again.
 */
interface PairGroup {
  readonly query: string;
  readonly key: string;
  slot: number;
  /** The fences field as an EntityState without tiles; undefined: not known, read it before use. */
  fences: EntityState | undefined;
  /** The hash did not exist when read, and this writer has not written it since. */
  absent: boolean;
  generation: number;
  /** Pairs of the hash in this writer's cache, by product id. */
  pairs: Map<string, Entity>;
  /** Pairs with increments in the current batch. */
  touched: Entity[];
}

type Tally = { -readonly [K in keyof ApplyResult]: ApplyResult[K] };

type CompareAndSet = (...keysAndArgs: (string | number | Buffer)[]) => Promise<number[]>;

interface ScriptedRedis {
  applyCatalog(...keysAndArgs: (string | number)[]): Promise<number>;
}

export interface FeatureWriterOptions {
  /** Keys per script call at most (calls also stop at maxBytesPerCall of arguments). */
  readonly maxKeysPerCall?: number;
  readonly maxBytesPerCall?: number;
  /** Entity states kept decoded between batches (0: none; every batch reads its keys). */
  readonly stateCacheEntries?: number;
  /** Compare-and-set rounds for one batch before giving up (another writer keeps changing its keys). */
  readonly maxRounds?: number;
}

const COMPARE_AND_SET = scriptName('searchopCompareAndSetStates', COMPARE_AND_SET_STATES_LUA);
const COMPARE_AND_SET_PAIRS = scriptName('searchopCompareAndSetPairs', COMPARE_AND_SET_PAIRS_LUA);
const NO_INCREMENT: Increment = { at: 0, counts: { impressions: 0, clicks: 0, carts: 0, purchases: 0 } };
/**
 * Bytes an increment can add to an encoded state at most: a tile per granularity and a fence. Bounds
 * the scratch space a state's compare-and-set arguments need before its increments are applied.
 */
const MAX_GROWTH_PER_INCREMENT = 3 * 20 + 10;

/**
 * Writes feature updates to Redis exactly once with respect to Kafka offsets (DESIGN-NOTES:
 * "Exactly-once effect from Kafka into Redis"): every entity state carries, in its own value, a
 * fence per source partition — the highest offset applied — so counts and fences move together.
 *
 * The tile arithmetic runs here, in the same TypeScript the trainer's backfill uses, and Redis only
 * stores values: a batch's increments are grouped per entity key; each key's state comes from this
 * writer's cache of states it last read or wrote (or, on a miss, one MGET per group of keys); the
 * increments at or below the key's fence for their source are dropped (a replay after a crash), the
 * rest applied with applyIncrements and the fences moved; then each new value is written with a
 * compare-and-set on the state's stamp — its encoded header and fences, which change with every write
 * since every write moves a fence up. A key another writer changed meanwhile (another instance after a
 * rebalance, or one sharing a product through other partitions) fails the compare, is read again and
 * recomputed, in rounds until every key is written. A query's (query, product) pairs are fields of
 * one hash with one set of fences (schemas' KeyLayout.queryPairs): the hash is the unit of the
 * compare-and-set — its fences compared, its changed pairs and new fences written together — so a
 * batch's pairs cost one compare per query instead of one per pair. Keys are grouped — by hash slot
 * on a Redis Cluster, in chunks on a single Redis — one script call per group, issued together
 * (ioredis auto-pipelining: one round trip per node). Resolves only when Redis has answered every
 * call, so the runner may then commit. Redis only compares stamps and stores values instead of
 * decoding, merging and re-encoding each state in Lua, which was ~40 µs of Redis CPU per key.
 */
export class FeatureWriter {
  readonly #redis: RedisClient & ScriptedRedis;
  readonly #keys: KeyLayout;
  readonly #maxKeys: number;
  readonly #maxBytes: number;
  readonly #maxRounds: number;
  readonly #cluster: boolean;
  readonly #entities: EntityTable;
  readonly #unapplied = new Unapplied();
  /** A pairs hash's fences moved by the pairs applied so far (source → highest offset). */
  readonly #moved = new Map<number, number>();
  /** Where each call's script argument is built before it is copied into a Buffer of its own. */
  #scratch = Buffer.allocUnsafe(1 << 16);
  #queue: Promise<unknown> = Promise.resolve();

  constructor(redis: RedisClient, keys: KeyLayout, options: FeatureWriterOptions = {}) {
    if (!('applyCatalog' in redis)) redis.defineCommand('applyCatalog', { numberOfKeys: 4, lua: APPLY_CATALOG_LUA });
    this.#redis = redis as RedisClient & ScriptedRedis;
    this.#keys = keys;
    this.#maxKeys = options.maxKeysPerCall ?? 500;
    this.#maxBytes = options.maxBytesPerCall ?? 4 * 1024 * 1024;
    this.#maxRounds = options.maxRounds ?? 50;
    this.#cluster = isRedisCluster(redis);
    this.#entities = new EntityTable(keys, options.stateCacheEntries ?? 100_000);
    FeatureWriter.#defineScripts(redis, this.#maxKeys);
  }

  /**
   * Applies a batch of behaviour events. Calls are serialised (a batch's states are changed in place
   * until their compare-and-set lands), so overlapping calls cannot interleave.
   */
  applyBehaviour(events: readonly SourcedEvent<BehaviourEvent>[]): Promise<ApplyResult> {
    const run = this.#queue.then(() => this.#applyBehaviour(events));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #applyBehaviour(events: readonly SourcedEvent<BehaviourEvent>[]): Promise<ApplyResult> {
    const table = this.#entities;
    for (const { spec, partition, offset, event } of events) {
      table.source = fenceSource(spec, partition);
      table.offset = offset;
      visitIncrements(event, table.add);
    }
    const result: Tally = { applied: 0, replayed: 0, late: 0, contended: 0 };
    let pending = table.touched;
    let groups = table.touchedGroups;
    try {
      for (let round = 1; pending.length > 0 || groups.length > 0; round++) {
        if (round > this.#maxRounds) {
          const first = pending[0]?.key ?? groups[0]!.key;
          throw new StreamProcessorError(
            StreamProcessorErrorCode.STATE_CONTENDED,
            `${pending.length + groups.length} entity states (${first}, …) changed under this writer in each of ${this.#maxRounds} rounds`,
            { retriable: true },
          );
        }
        await Promise.all([this.#read(pending), this.#readGroups(groups)]);
        [pending, groups] = await this.#applyAndWrite(pending, groups, result);
      }
    } catch (error) {
      // States changed in place whose write may not have happened: read them again next time.
      for (const entity of table.touched) entity.state = undefined;
      for (const group of table.touchedGroups) FeatureWriter.#forget(group);
      throw error;
    } finally {
      table.endBatch();
    }
    return result;
  }

  /** Reads the entities whose state is not known (one MGET per group of keys). */
  async #read(entities: readonly Entity[]): Promise<void> {
    const missing = entities.filter((entity) => entity.state === undefined);
    if (missing.length === 0) return;
    const groups = this.#group(missing, (entity) => entity.key.length);
    const replies = await Promise.all(
      groups.map((group) => this.#redis.mgetBuffer(...group.map((i) => missing[i]!.key))),
    );
    groups.forEach((group, g) => {
      const values = replies[g]!;
      group.forEach((m, i) => {
        const entity = missing[m]!;
        const state = FeatureWriter.#decode(values[i], entity.key);
        entity.state = state ?? new EntityState();
        entity.absent = state === undefined;
      });
    });
  }

  /**
   * Reads, per pairs hash, what is not known: its fences (then every pair of the batch, all stale),
   * or the batch's pairs not in the cache — one HMGET per hash. A hash known to be absent needs no
   * read: its pairs are new.
   */
  async #readGroups(groups: readonly PairGroup[]): Promise<void> {
    const reads: Promise<void>[] = [];
    for (const group of groups) {
      const fencesKnown = group.fences !== undefined;
      // Fences unknown: every pair of the batch is stale (read with them); else those not known now.
      const pairs = fencesKnown
        ? group.touched.filter((pair) => pair.state === undefined || pair.generation !== group.generation)
        : group.touched;
      if (fencesKnown && pairs.length === 0) continue;
      if (fencesKnown && group.absent) {
        for (const pair of pairs) {
          pair.state = new EntityState();
          pair.generation = group.generation;
        }
        continue;
      }
      const fields = pairs.map((pair) => pair.field);
      if (!fencesKnown) fields.push(PAIR_FENCES_FIELD);
      reads.push(
        this.#redis.hmgetBuffer(group.key, ...fields).then((values) => {
          if (!fencesKnown) {
            const fences = FeatureWriter.#decode(values[pairs.length], group.key);
            group.fences = fences ?? new EntityState();
            group.absent = fences === undefined;
          }
          for (let i = 0; i < pairs.length; i++) {
            const pair = pairs[i]!;
            pair.state = FeatureWriter.#decode(values[i], `${group.key} ${pair.field}`) ?? new EntityState();
            pair.generation = group.generation;
          }
        }),
      );
    }
    await Promise.all(reads);
  }

  static #decode(value: Buffer | null | undefined, where: string): EntityState | undefined {
    try {
      return decodeState(value);
    } catch (error) {
      throw new StreamProcessorError(
        StreamProcessorErrorCode.STATE_UNREADABLE,
        `${where} does not hold an entity state: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Another writer changed the hash (or a write may not have happened): all its states are stale. */
  static #forget(group: PairGroup): void {
    group.fences = undefined;
    group.generation++;
  }

  /**
   * One round of a batch: applies each entity's unapplied increments to its (known) state and writes
   * the new values with compare-and-set, one script call per group of keys, all issued together.
   * Returns the entities and pairs hashes whose compare failed (another writer changed them: read
   * again and retry). Each call's script argument is built in the writer's scratch buffer — per key
   * the stamp the key must still have, encoded from the state before the increments, then the new
   * value; per pairs hash its fences before and after, then each changed pair — and copied into one
   * Buffer per call: nothing is allocated per key.
   */
  async #applyAndWrite(
    entities: readonly Entity[],
    pairGroups: readonly PairGroup[],
    result: Tally,
  ): Promise<[Entity[], PairGroup[]]> {
    const unapplied = this.#unapplied;
    const calls: Promise<number[]>[] = [];
    const written: Entity[][] = [];
    const lates: number[][] = [];
    for (const group of this.#group(
      entities,
      (entity) =>
        entity.key.length + 6 + 2 * encodedStateLength(entity.state!) + entity.count * MAX_GROWTH_PER_INCREMENT,
    )) {
      const writes: Entity[] = [];
      const late: number[] = [];
      let at = 0;
      for (const index of group) {
        const entity = entities[index]!;
        const state = entity.state!;
        if (!unapplied.of(entity, state.fences, this.#entities)) {
          result.replayed++;
          continue;
        }
        const scratch = this.#reserve(
          at,
          6 + 2 * encodedStateLength(state) + unapplied.count * MAX_GROWTH_PER_INCREMENT,
        );
        // A failed compare discards this state (read again), so changing it in place is safe.
        const stampStart = at + 2;
        at = entity.absent ? stampStart : encodeStateStampInto(state, scratch, stampStart);
        scratch.writeUInt16LE(at - stampStart, stampStart - 2);
        late.push(applyIncrements(state, unapplied.increments, unapplied.count));
        unapplied.moveFences(state.fences);
        const valueStart = at + 4;
        at = encodeStateInto(state, scratch, valueStart);
        scratch.writeUInt32LE(at - valueStart, valueStart - 4);
        writes.push(entity);
      }
      if (writes.length === 0) continue;
      calls.push(this.#call(COMPARE_AND_SET, writes, this.#copyScratch(at)));
      written.push(writes);
      lates.push(late);
    }

    const pairCalls: Promise<number[]>[] = [];
    const pairWritten: PairGroup[][] = [];
    const pairLates: number[][] = [];
    const pairFields: number[][] = [];
    for (const call of this.#group(pairGroups, (group) => FeatureWriter.#pairGroupBytes(group))) {
      const writes: PairGroup[] = [];
      const late: number[] = [];
      const written: number[] = [];
      let at = 0;
      for (const index of call) {
        const group = pairGroups[index]!;
        const fences = group.fences!;
        const before = at;
        let scratch = this.#reserve(at, 10 + encodedStateLength(fences));
        // The fences the hash must still hold (nothing: absent), the pairs, then the new fences.
        const stampStart = at + 2;
        at = group.absent ? stampStart : encodeStateInto(fences, scratch, stampStart);
        scratch.writeUInt16LE(at - stampStart, stampStart - 2);
        const countAt = at;
        at += 4;
        // Each pair against the hash's fences as they were; the fences move once all are applied.
        const moved = this.#moved;
        moved.clear();
        let fields = 0;
        let groupLate = 0;
        for (const pair of group.touched) {
          const state = pair.state!;
          if (!unapplied.of(pair, fences.fences, this.#entities)) {
            result.replayed++;
            continue;
          }
          unapplied.maxFencesInto(moved);
          groupLate += applyIncrements(state, unapplied.increments, unapplied.count);
          const fieldBytes = Buffer.byteLength(pair.field);
          scratch = this.#reserve(at, 6 + fieldBytes + encodedStateLength(state));
          scratch.writeUInt16LE(fieldBytes, at);
          at += 2 + scratch.write(pair.field, at + 2);
          const valueStart = at + 4;
          at = encodeStateInto(state, scratch, valueStart);
          scratch.writeUInt32LE(at - valueStart, valueStart - 4);
          fields++;
        }
        if (fields === 0) {
          at = before;
          continue;
        }
        scratch.writeUInt32LE(fields, countAt);
        for (const [source, offset] of moved) fences.fences.set(source, offset);
        scratch = this.#reserve(at, 4 + encodedStateLength(fences));
        const fencesStart = at + 4;
        at = encodeStateInto(fences, scratch, fencesStart);
        scratch.writeUInt32LE(at - fencesStart, fencesStart - 4);
        writes.push(group);
        late.push(groupLate);
        written.push(fields);
      }
      if (writes.length === 0) continue;
      pairCalls.push(this.#call(COMPARE_AND_SET_PAIRS, writes, this.#copyScratch(at)));
      pairWritten.push(writes);
      pairLates.push(late);
      pairFields.push(written);
    }

    const [replies, pairReplies] = await Promise.all([Promise.all(calls), Promise.all(pairCalls)]);
    const retry: Entity[] = [];
    eachStatus(replies, written, (entity, written, c, i) => {
      if (written) {
        result.applied++;
        result.late += lates[c]![i]!;
        entity.absent = false;
      } else {
        result.contended++;
        entity.state = undefined;
        retry.push(entity);
      }
    });
    const retryGroups: PairGroup[] = [];
    eachStatus(pairReplies, pairWritten, (group, written, c, i) => {
      if (written) {
        result.applied += pairFields[c]![i]!;
        result.late += pairLates[c]![i]!;
        group.absent = false;
      } else {
        result.contended++;
        FeatureWriter.#forget(group);
        retryGroups.push(group);
      }
    });
    return [retry, retryGroups];
  }

  /** Bytes a pairs hash can take in a call's argument at most (before its increments are applied). */
  static #pairGroupBytes(group: PairGroup): number {
    let bytes = group.key.length + 10 + 2 * encodedStateLength(group.fences!) + group.touched.length * FENCE_BYTES;
    for (const pair of group.touched)
      bytes += 3 * pair.field.length + 6 + encodedStateLength(pair.state!) + pair.count * MAX_GROWTH_PER_INCREMENT;
    return bytes;
  }

  /** The scratch buffer, with at least `bytes` free after `at` (grown, keeping its first `at` bytes). */
  #reserve(at: number, bytes: number): Buffer {
    if (at + bytes <= this.#scratch.length) return this.#scratch;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#scratch.length, at + bytes));
    this.#scratch.copy(grown, 0, 0, at);
    return (this.#scratch = grown);
  }

  /** The first `at` bytes of the scratch buffer, in a Buffer of their own (the scratch is reused before ioredis sends). */
  #copyScratch(at: number): Buffer {
    const blob = Buffer.allocUnsafe(at);
    this.#scratch.copy(blob, 0, 0, at);
    return blob;
  }

  /**
   * Groups of item indexes for one command each: keys of one slot (cluster) or any keys (single
   * Redis), within the per-call limits.
   */
  #group<T extends { readonly key: string; slot: number }>(
    items: readonly T[],
    bytesOf: (item: T) => number,
  ): number[][] {
    const calls: number[][] = [];
    const open = new Map<number, { items: number[]; bytes: number }>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      let group = 0;
      if (this.#cluster) {
        if (item.slot < 0) item.slot = calculateSlot(item.key);
        group = item.slot;
      }
      const bytes = bytesOf(item);
      let call = open.get(group);
      if (call && (call.items.length >= this.#maxKeys || call.bytes + bytes > this.#maxBytes)) {
        calls.push(call.items);
        call = undefined;
      }
      if (!call) open.set(group, (call = { items: [], bytes: 0 }));
      call.items.push(i);
      call.bytes += bytes;
    }
    for (const call of open.values()) calls.push(call.items);
    return calls;
  }

  /**
   * One script call (`script`: COMPARE_AND_SET or COMPARE_AND_SET_PAIRS) for a group: its keys
   * (padded to the command's key count), the TTL, the number of real keys and one blob with each
   * key's arguments (see scripts.ts) — one argument instead of two per key.
   */
  #call(script: string, writes: readonly { readonly key: string }[], blob: Buffer): Promise<number[]> {
    const n = paddedKeyCount(writes.length);
    const keys = new Array<string>(n);
    for (let i = 0; i < writes.length; i++) keys[i] = writes[i]!.key;
    keys.fill(writes[writes.length - 1]!.key, writes.length);
    const command = (this.#redis as unknown as Record<string, CompareAndSet>)[`${script}${n}`]!;
    return command.call(this.#redis, ...keys, COUNTER_TTL_SECONDS, writes.length, blob);
  }

  /**
   * The scripts as commands taking a fixed number of keys. ioredis auto-pipelining routes a command
   * on a cluster by its first argument, so the keys must come first and the key count must be part
   * of the command's definition, not an argument; and a command must be defined before any pipeline
   * that carries it is created. So the constructor defines each script (one SHA) for the key counts
   * of paddedKeyCount, and a call pads its keys to the next one by repeating its last key (the
   * scripts only visit keys that have arguments).
   */
  static #defineScripts(redis: RedisClient, maxKeys: number): void {
    for (const [prefix, lua] of [
      [COMPARE_AND_SET, COMPARE_AND_SET_STATES_LUA],
      [COMPARE_AND_SET_PAIRS, COMPARE_AND_SET_PAIRS_LUA],
    ] as const) {
      for (let n = 1; ; n = paddedKeyCount(n + 1)) {
        const name = `${prefix}${n}`;
        if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: n, lua });
        if (n >= maxKeys) break;
      }
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
    return { applied, replayed: statuses.length - applied, late: 0, contended: 0 };
  }
}

/**
 * Visits each item of each compare-and-set call with its status: `replies[c][i]` is 1 when item i of
 * call c (`calls[c][i]`) was written, 0 when it had changed meanwhile.
 */
function eachStatus<T>(
  replies: readonly number[][],
  calls: readonly (readonly T[])[],
  visit: (item: T, written: boolean, c: number, i: number) => void,
): void {
  for (let c = 0; c < replies.length; c++) {
    const statuses = replies[c]!;
    const items = calls[c]!;
    for (let i = 0; i < items.length; i++) visit(items[i]!, statuses[i] === 1, c, i);
  }
}

/**
 * The key count of the command that carries `keys` keys: the next of 1, 2, 3, 4, 6, 8, 12, 16, 24, …
 * (powers of two and one and a half times them), so that padding adds at most half to a call's keys
 * (powers of two alone: up to as many again) — each padded key is still sent, and made a Lua string
 * by Redis — with ~2 log2(maxKeys) commands defined. Matters on a Redis Cluster, where a batch's keys split into many small groups.
 */
function paddedKeyCount(keys: number): number {
  let n = 1;
  while (n < keys) n = n >= 2 && (n & (n - 1)) === 0 ? (n * 3) / 2 : n === 1 ? 2 : (n / 3) * 4;
  return n;
}

/**
 * The entities this writer knows, by product, query and (query, product) — nested maps, so that no
 * key string is built per increment: an entity's key is built once, when it is first seen; a pair
 * sits in its query's pairs hash (PairGroup). `add` is the visitor of visitIncrements for the event
 * at `source` and `offset`; it collects the batch's increments on each entity and lists the entities
 * and pairs hashes touched. Known states stay between batches (a cache: no read for a key this writer
 * wrote last), up to `capacity` entities: past that, endBatch forgets all but the last batch's.
 */
class EntityTable {
  /** The entities with increments in the current batch, pairs aside. */
  touched: Entity[] = [];
  /** The pairs hashes with pairs with increments in the current batch. */
  touchedGroups: PairGroup[] = [];
  source = 0;
  offset = 0;
  readonly #keys: KeyLayout;
  readonly #capacity: number;
  #products = new Map<string, Entity>();
  #queries = new Map<string, Entity>();
  #groups = new Map<string, PairGroup>();
  #global: Entity | undefined;
  #size = 0;
  /**
   * The pairs hash of the last pair looked up: an impression visits its query's pairs one after
   * another, so most pair lookups skip the lookup of the query.
   */
  #lastQuery: string | undefined;
  #lastGroup: PairGroup | undefined;

  constructor(keys: KeyLayout, capacity: number) {
    this.#keys = keys;
    this.#capacity = capacity;
  }

  /**
   * The batch's increments, in visiting order: increment i has its source, offset and the index of
   * the next increment of the same entity (-1: its last). One set of arrays for the whole batch
   * (reused from batch to batch) instead of three per entity.
   */
  readonly sources: number[] = [];
  readonly offsets: number[] = [];
  readonly increments: Increment[] = [];
  readonly next: number[] = [];
  #count = 0;

  readonly add: IncrementVisitor = (kind, query, productId, increment) => {
    const entity = this.#entity(kind, query, productId);
    const i = this.#count++;
    this.sources[i] = this.source;
    this.offsets[i] = this.offset;
    this.increments[i] = increment;
    this.next[i] = -1;
    if (entity.count++ === 0) {
      entity.first = i;
      const group = entity.group;
      if (group) {
        if (group.touched.length === 0) this.touchedGroups.push(group);
        group.touched.push(entity);
      } else this.touched.push(entity);
    } else this.next[entity.last] = i;
    entity.last = i;
  };

  /** Clears the batch's increments; forgets entities past the capacity. */
  endBatch(): void {
    const touched = this.touched;
    const touchedGroups = this.touchedGroups;
    this.touched = [];
    this.touchedGroups = [];
    for (const entity of touched) entity.count = 0;
    const touchedPairs: Entity[][] = [];
    for (const group of touchedGroups) {
      for (const pair of group.touched) pair.count = 0;
      touchedPairs.push(group.touched);
      group.touched = [];
    }
    // Drop the increments (they hold their events' objects) but keep the arrays' capacity.
    this.increments.fill(NO_INCREMENT, 0, this.#count);
    this.#count = 0;
    if (this.#size <= this.#capacity) return;
    this.#products = new Map();
    this.#queries = new Map();
    this.#groups = new Map();
    this.#global = undefined;
    this.#size = 0;
    this.#lastQuery = undefined;
    this.#lastGroup = undefined;
    let kept = touched.length;
    for (const pairs of touchedPairs) kept += pairs.length;
    if (kept > this.#capacity) return;
    for (const entity of touched) this.#insert(entity);
    touchedGroups.forEach((group, g) => {
      group.pairs = new Map();
      this.#groups.set(group.query, group);
      for (const pair of touchedPairs[g]!) this.#insert(pair);
    });
  }

  #entity(kind: EntityRef['kind'], query: string, productId: string): Entity {
    let entity: Entity | undefined;
    let group: PairGroup | undefined;
    switch (kind) {
      case 'global':
        entity = this.#global;
        break;
      case 'product':
        entity = this.#products.get(productId);
        break;
      case 'query':
        entity = this.#queries.get(query);
        break;
      case 'pair':
        if (query !== this.#lastQuery) {
          this.#lastQuery = query;
          this.#lastGroup = this.#groups.get(query);
        }
        group = this.#lastGroup;
        if (!group) {
          group = {
            query,
            key: this.#keys.queryPairs(query),
            slot: -1,
            fences: undefined,
            absent: false,
            generation: 0,
            pairs: new Map(),
            touched: [],
          };
          this.#groups.set(query, group);
          this.#lastGroup = group;
        }
        entity = group.pairs.get(productId);
        break;
    }
    if (entity) return entity;
    entity = {
      kind,
      query,
      productId,
      key: group ? group.key : this.#keyOf(kind, query, productId),
      field: group ? pairField(productId) : '',
      group,
      slot: -1,
      state: undefined,
      absent: false,
      generation: -1,
      count: 0,
      first: -1,
      last: -1,
    };
    this.#insert(entity);
    return entity;
  }

  #keyOf(kind: EntityRef['kind'], query: string, productId: string): string {
    switch (kind) {
      case 'product':
        return this.#keys.productCounters(productId);
      case 'query':
        return this.#keys.queryCounters(query);
      default:
        return this.#keys.globalCounters();
    }
  }

  #insert(entity: Entity): void {
    this.#size++;
    switch (entity.kind) {
      case 'global':
        this.#global = entity;
        return;
      case 'product':
        this.#products.set(entity.productId, entity);
        return;
      case 'query':
        this.#queries.set(entity.query, entity);
        return;
      case 'pair':
        entity.group!.pairs.set(entity.productId, entity);
        return;
    }
  }
}

/**
 * The increments of an entity's batch above the state's fence for their source, and the fences they
 * move (sources[i] → offsets[i]), in arrays reused from one entity to the next.
 */
class Unapplied {
  increments: readonly Increment[] = [];
  count = 0;
  readonly #kept: Increment[] = [];
  readonly #sources: number[] = [];
  readonly #offsets: number[] = [];
  #moved = 0;

  /**
   * Finds the increments of `entity` (in `table`'s lists) to apply over `fences`; false when there is
   * none (all replays).
   */
  of(entity: Entity, fences: ReadonlyMap<number, number>, table: EntityTable): boolean {
    const { sources, offsets, increments, next } = table;
    const movedSources = this.#sources;
    const movedOffsets = this.#offsets;
    const kept = this.#kept;
    let count = 0;
    let moved = 0;
    let lastSource = -1;
    let fence = -1;
    let m = -1;
    for (let i = entity.first, n = 0; n < entity.count; i = next[i]!, n++) {
      const source = sources[i]!;
      const offset = offsets[i]!;
      if (source !== lastSource) {
        lastSource = source;
        fence = fences.get(source) ?? -1;
        m = -1;
        for (let k = 0; k < moved; k++) if (movedSources[k] === source) m = k;
      }
      // At or below the fence: a replay, already counted.
      if (offset <= fence) continue;
      kept[count++] = increments[i]!;
      if (m < 0) {
        m = moved++;
        movedSources[m] = source;
        movedOffsets[m] = offset;
      } else if (offset > movedOffsets[m]!) movedOffsets[m] = offset;
    }
    this.#moved = moved;
    this.increments = kept;
    this.count = count;
    return moved > 0;
  }

  /** Raises `into`'s offsets to the fences the increments found by `of` move (pairs of one hash). */
  maxFencesInto(into: Map<number, number>): void {
    for (let k = 0; k < this.#moved; k++) {
      const source = this.#sources[k]!;
      const offset = this.#offsets[k]!;
      if (offset > (into.get(source) ?? -1)) into.set(source, offset);
    }
  }

  /** Moves the fences the increments found by `of` move. */
  moveFences(fences: Map<number, number>): void {
    for (let k = 0; k < this.#moved; k++) fences.set(this.#sources[k]!, this.#offsets[k]!);
  }
}
