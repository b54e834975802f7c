import { isRedisCluster, type Logger, type RedisClient } from '@searchop/runtime';
import {
  COUNTER_TTL_SECONDS,
  PAIR_FENCES_FIELD,
  decodeState,
  latestEventAt,
  type EntityState,
  type KeyLayout,
} from '@searchop/schemas';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { DELETE_IDLE_PAIRS_LUA, scriptName } from './scripts.ts';

/**
 * Idle (query, product) pairs leave their query's pairs hash here. The hash's key expires
 * COUNTER_TTL_SECONDS after its last write, but a write to any of its pairs renews it, and Redis 7.0
 * has no per-field TTL: without pruning, a pair that stopped receiving events would live as long as
 * its query keeps receiving events for other products. A pair is pruned once it holds nothing any
 * window still sees — its newest event older than COUNTER_TTL_SECONDS, what a key per pair with that
 * TTL gave — by a compare-and-delete, so a pair a writer updated meanwhile stays. Readers see no
 * difference: an absent pair and an idle one give the same zero windows. A FeatureWriter that still
 * caches a pruned pair (its hash's fences did not move) writes it back with its next event on top, as
 * if it had not been pruned; that event's retention drops the old tiles (unless the event is that old
 * too, and the pair idle again), so every window reads as from a fresh pair.
 */

const TTL_MS = COUNTER_TTL_SECONDS * 1000;
const FENCES_FIELD = Buffer.from(PAIR_FENCES_FIELD);
/** Idle fields deleted per script call at most (the script runs atomically: keep each call short). */
const FIELDS_PER_CALL = 500;
const DELETE_IDLE_PAIRS = `${scriptName('searchopDeleteIdlePairs', DELETE_IDLE_PAIRS_LUA)}1`;

type DeleteIdlePairs = (key: string, ...fieldsAndValues: Buffer[]) => Promise<number>;

/**
 * Whether a pair holds nothing any window or recency feature still sees at `nowMs`: its newest event
 * (latestEventAt: within five minutes, never earlier) is at least COUNTER_TTL_SECONDS old. A state
 * without events is idle.
 */
export function isIdlePair(state: EntityState, nowMs: number): boolean {
  return nowMs - latestEventAt(state) >= TTL_MS;
}

export interface PrunePairsOptions {
  /** The instant pairs are judged idle at (the ranker's clock: wall time). */
  readonly nowMs: number;
  /** SCAN / HSCAN COUNT hint: keys per SCAN page (their hashes pruned together), fields per HSCAN page. */
  readonly count?: number;
  /** Stops the run between SCAN pages (graceful shutdown). */
  readonly signal?: AbortSignal;
}

export interface PrunePairsResult {
  /** Pairs hashes visited. */
  readonly hashes: number;
  /** Pair fields read (not the fences; HSCAN may return a field twice while Redis rehashes the hash). */
  readonly fields: number;
  /** Idle pair fields deleted. */
  readonly pruned: number;
  /** Pair fields whose value is no entity state: left as they are. */
  readonly unreadable: number;
}

/**
 * Deletes the idle pairs of every query pairs hash of a key layout: SCANs for the hashes (every master
 * of a Redis Cluster), HSCANs each, decodes each pair and deletes the idle ones with deleteIdle. The
 * fences field is never touched, so a hash whose pairs are all gone keeps its fences until its key
 * expires. A value that is no entity state is left and counted.
 */
export class PairPruner {
  readonly #redis: RedisClient;
  readonly #layout: KeyLayout;

  /**
   * Defines the compare-and-delete script on `redis`: as for the FeatureWriter, a command must be
   * defined before an auto-pipeline that carries it is created, so before the client is used.
   */
  constructor(redis: RedisClient, layout: KeyLayout) {
    if (!(DELETE_IDLE_PAIRS in redis))
      redis.defineCommand(DELETE_IDLE_PAIRS, { numberOfKeys: 1, lua: DELETE_IDLE_PAIRS_LUA });
    this.#redis = redis;
    this.#layout = layout;
  }

  async prune(options: PrunePairsOptions): Promise<PrunePairsResult> {
    const redis = this.#redis;
    const count = options.count ?? 1_000;
    const nodes: Redis[] = isRedisCluster(redis) ? redis.nodes('master') : [redis];
    const total = { hashes: 0, fields: 0, pruned: 0, unreadable: 0 };
    for (const node of nodes) {
      const pages = node.scanStream({ match: this.#layout.queryPairsPattern(), type: 'hash', count });
      for await (const keys of pages as AsyncIterable<string[]>) {
        if (options.signal?.aborted) break;
        // The page's hashes together: their commands share round trips (auto-pipelining).
        const results = await Promise.all(keys.map((key) => this.#pruneHash(key, options.nowMs, count)));
        for (const r of results) {
          total.hashes++;
          total.fields += r.fields;
          total.pruned += r.pruned;
          total.unreadable += r.unreadable;
        }
      }
      if (options.signal?.aborted) break;
    }
    return total;
  }

  /**
   * Atomic compare-and-delete of pairs of the hash at `key`: deletes each field that still holds the
   * value given with it (the one judged idle), never the fences field; a field a writer changed since
   * stays. Returns the number deleted.
   */
  deleteIdle(key: string, idle: readonly (readonly [field: Buffer, value: Buffer])[]): Promise<number> {
    const command = (this.#redis as unknown as Record<string, DeleteIdlePairs>)[DELETE_IDLE_PAIRS]!;
    return command.call(this.#redis, key, ...idle.flat());
  }

  async #pruneHash(key: string, nowMs: number, count: number): Promise<Omit<PrunePairsResult, 'hashes'>> {
    let fields = 0;
    let pruned = 0;
    let unreadable = 0;
    let idle: [Buffer, Buffer][] = [];
    for await (const page of this.#redis.hscanBufferStream(key, { count }) as AsyncIterable<Buffer[]>) {
      for (let i = 0; i + 1 < page.length; i += 2) {
        const field = page[i]!;
        const value = page[i + 1]!;
        if (field.equals(FENCES_FIELD)) continue;
        fields++;
        let state: EntityState | undefined;
        try {
          state = decodeState(value);
        } catch {
          unreadable++;
          continue;
        }
        if (state && !isIdlePair(state, nowMs)) continue;
        idle.push([field, value]);
        if (idle.length >= FIELDS_PER_CALL) {
          pruned += await this.deleteIdle(key, idle);
          idle = [];
        }
      }
    }
    if (idle.length > 0) pruned += await this.deleteIdle(key, idle);
    return { fields, pruned, unreadable };
  }
}

export interface PairPruningOptions {
  /** Milliseconds between runs, the first one interval after the start; 0: never. */
  readonly intervalMs: number;
  /** One run (PairPruner.prune with the processor's client and layout), stopping early when `signal` aborts. */
  readonly prune: (signal: AbortSignal) => Promise<PrunePairsResult>;
  readonly logger: Logger;
  readonly metrics: Registry;
}

export interface PairPruning {
  /** No more runs; stops the current one between SCAN pages and resolves when it has. */
  stop(): Promise<void>;
}

/**
 * Runs `prune` every `intervalMs`, never two at once (a run still going at the next tick makes that
 * tick a `skipped` run). A failed run is logged and counted, never thrown: the processor goes on, and
 * the next run tries again.
 */
export function schedulePairPruning(options: PairPruningOptions): PairPruning {
  const { intervalMs, logger } = options;
  const registers = [options.metrics];
  const pruned = new Counter({
    name: 'searchop_features_pairs_pruned_total',
    help: 'Idle (query, product) pairs deleted from their query’s pairs hash (newest event older than the counter TTL)',
    registers,
  });
  const runs = new Counter({
    name: 'searchop_features_pair_prune_runs_total',
    help: 'Idle pair pruning runs by outcome: ok; failed (logged; the next run tries again); skipped (the previous run was still going)',
    labelNames: ['outcome'],
    registers,
  });
  if (intervalMs === 0) return { stop: () => Promise.resolve() };
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const run = async () => {
    const startedAt = Date.now();
    try {
      const result = await options.prune(abort.signal);
      pruned.inc(result.pruned);
      runs.inc({ outcome: 'ok' });
      const log = result.unreadable > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ ...result, ms: Date.now() - startedAt, stopped: abort.signal.aborted }, 'pruned idle pairs');
    } catch (error) {
      runs.inc({ outcome: 'failed' });
      logger.error({ err: error, ms: Date.now() - startedAt }, 'pruning idle pairs failed');
    }
  };
  const timer = setInterval(() => {
    if (running) {
      runs.inc({ outcome: 'skipped' });
      return;
    }
    running = run().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
