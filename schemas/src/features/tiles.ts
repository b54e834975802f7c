/**
 * Event-time counters in time tiles (the technique of Chronon, Tecton and Metarank's bucketed
 * counters): every entity keeps, per granularity, the counts of the tiles still inside that
 * granularity's retention; a rolling window is the sum of its tiles as of "now". Values never go
 * stale when no event arrives, and the same code computes them online (stream processor, ranker)
 * and offline (trainer backfill), so training and serving cannot drift.
 *
 * Windows are tile-aligned: "1h" is the current 5-minute tile and the 11 before it, so it covers
 * between 55 and 60 minutes of history depending on where "now" falls in the current tile.
 *
 * Retention is relative to the newest tile of the entity itself (not a processor's clock), so the
 * state after a set of events does not depend on the order in which partitions delivered them:
 * an event older than the retention of a granularity is not counted there (counted as late by the
 * processor), and tiles that fall out of retention are pruned when a newer event arrives.
 *
 * Speed matters here: the ranker derives window counts for 100–1,000 candidates per request and
 * the trainer's backfill replays millions of impressions through this module. So a state holds its
 * tiles in one Uint32Array (the layout of the binary encoding, see state-codec.ts), window sums are
 * computed for all windows in one pass over the tiles against precomputed boundaries (WindowFrame),
 * and nothing is allocated per tile.
 */

export const COUNTERS = ['impressions', 'clicks', 'carts', 'purchases'] as const;
export type CounterName = (typeof COUNTERS)[number];
export type Counts = Record<CounterName, number>;
/** Position of each counter in a tile after its key, and in window sums (see WindowFrame). */
export const COUNTER_COUNT = COUNTERS.length;

export interface Granularity {
  /** Index in the packed tile key (2 bits): fixed forever for a given encoding version. */
  readonly id: 0 | 1 | 2 | 3;
  readonly tileMs: number;
  /** Tiles kept, counting the newest: the longest window on this granularity plus lateness. */
  readonly retention: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const GRANULARITIES = {
  fiveMinutes: { id: 0, tileMs: 5 * MINUTE, retention: 13 },
  hour: { id: 1, tileMs: HOUR, retention: 25 },
  day: { id: 2, tileMs: DAY, retention: 31 },
} as const satisfies Record<string, Granularity>;
export type GranularityName = keyof typeof GRANULARITIES;

export interface WindowSpec {
  readonly name: string;
  readonly granularity: GranularityName;
  /** Number of tiles summed, counting the current one. */
  readonly tiles: number;
}

/** The rolling windows of feature spec v1. More can be added within each granularity's retention. */
export const WINDOWS = [
  { name: '1h', granularity: 'fiveMinutes', tiles: 12 },
  { name: '24h', granularity: 'hour', tiles: 24 },
  { name: '7d', granularity: 'day', tiles: 7 },
  { name: '30d', granularity: 'day', tiles: 30 },
] as const satisfies readonly WindowSpec[];
export type WindowName = (typeof WINDOWS)[number]['name'];

const GRANULARITY_BY_ID: readonly Granularity[] = Object.values(GRANULARITIES).sort((a, b) => a.id - b.id);
const GRANULARITY_COUNT = GRANULARITY_BY_ID.length;
const TILE_MS_BY_ID = GRANULARITY_BY_ID.map((g) => g.tileMs);
const RETENTION_BY_ID = GRANULARITY_BY_ID.map((g) => g.retention);

const INDEX_BITS = 30;
const INDEX_MASK = 2 ** INDEX_BITS - 1;

/** A tile key packs the granularity (top 2 bits) and the tile index since the epoch (low 30 bits). */
export function tileKey(granularity: Granularity, index: number): number {
  return granularity.id * 2 ** INDEX_BITS + index;
}
export function tileGranularity(key: number): Granularity {
  return GRANULARITY_BY_ID[key >>> INDEX_BITS]!;
}
export function tileIndex(key: number): number {
  return key & INDEX_MASK;
}
export function tileIndexAt(granularity: Granularity, timeMs: number): number {
  return Math.floor(timeMs / granularity.tileMs);
}

/** u32 values per tile in EntityState.tiles: the tile key, then the counters in COUNTERS order. */
export const TILE_STRIDE = 1 + COUNTER_COUNT;

/**
 * The state of one entity (a product, a query, a query–product pair or the global total).
 * Tiles are packed: tile i is tiles[i*TILE_STRIDE] (its key) followed by its four counters; only
 * the first tileCount tiles are meaningful (the array may have spare capacity).
 */
export class EntityState {
  tiles: Uint32Array;
  tileCount: number;
  /** Event time of the latest click / purchase (0: never). */
  lastClickAt = 0;
  lastPurchaseAt = 0;
  #fences: Map<number, number> | undefined;
  #fenceSource: Buffer | undefined;
  #fenceCount = 0;

  // Three tiles (one per granularity: what one event makes) fit V8's on-heap typed arrays (≤ 64 bytes),
  // so a new entity allocates no backing store of its own.
  constructor(tiles: Uint32Array = new Uint32Array(3 * TILE_STRIDE), tileCount = 0) {
    this.tiles = tiles;
    this.tileCount = tileCount;
  }

  /**
   * Source (topic index × 1024 + Kafka partition) → highest offset applied: the exactly-once fence.
   * Decoded on first use (the ranker never reads it).
   */
  get fences(): Map<number, number> {
    if (!this.#fences) {
      this.#fences = new Map();
      const encoded = this.#fenceSource;
      for (let i = 0, at = 0; i < this.#fenceCount; i++, at += FENCE_BYTES)
        this.#fences.set(encoded!.readUInt16LE(at), encoded!.readDoubleLE(at + 2));
      this.#fenceSource = undefined;
    }
    return this.#fences;
  }

  /** How many fences the state has, without decoding them (a pair's state has none: no Map for it). */
  get fenceCount(): number {
    return this.#fences ? this.#fences.size : this.#fenceCount;
  }

  /** For the codec: fences still encoded (FENCE_BYTES each), decoded when first read. */
  setEncodedFences(encoded: Buffer, count: number): void {
    this.#fences = undefined;
    this.#fenceSource = encoded;
    this.#fenceCount = count;
  }
}
/** Bytes of one encoded fence: u16 source, f64 offset. */
export const FENCE_BYTES = 10;

export function emptyState(): EntityState {
  return new EntityState();
}

export function zeroCounts(): Counts {
  return { impressions: 0, clicks: 0, carts: 0, purchases: 0 };
}

/** The tiles of a state as [key, counts] sorted by key: for tests, debugging and comparisons. */
export function tileEntries(state: EntityState): [number, Counts][] {
  const out: [number, Counts][] = [];
  const t = state.tiles;
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE)
    out.push([t[at]!, { impressions: t[at + 1]!, clicks: t[at + 2]!, carts: t[at + 3]!, purchases: t[at + 4]! }]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** The tile of `key` in a state, or undefined. */
export function tileCounts(state: EntityState, key: number): Counts | undefined {
  return tileEntries(state).find(([k]) => k === key)?.[1];
}

/**
 * The last millisecond at which the newest event counted in a state can have occurred; -Infinity for a
 * state without events. The newest event is in the newest tile of every granularity (retention counts
 * back from it, so those tiles are never pruned): the bound is the end of the newest five-minute tile,
 * at most five minutes after that event (or the last click or purchase, if later). Whether a state
 * still holds anything a window sees rests on it.
 */
export function latestEventAt(state: EntityState): number {
  const newestEnd = new Array<number>(GRANULARITY_COUNT).fill(Number.NEGATIVE_INFINITY);
  const tiles = state.tiles;
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
    const key = tiles[at]!;
    const g = key >>> INDEX_BITS;
    const end = ((key & INDEX_MASK) + 1) * TILE_MS_BY_ID[g]! - 1;
    if (end > newestEnd[g]!) newestEnd[g] = end;
  }
  let latest = Number.POSITIVE_INFINITY;
  for (const end of newestEnd) if (end > Number.NEGATIVE_INFINITY && end < latest) latest = end;
  if (latest === Number.POSITIVE_INFINITY) latest = Number.NEGATIVE_INFINITY;
  const recency = Math.max(state.lastClickAt, state.lastPurchaseAt);
  return recency > 0 && recency > latest ? recency : latest;
}

/** An increment of counters at an event time: what one event contributes to one entity. */
export interface Increment {
  readonly at: number;
  readonly counts: Partial<Counts>;
}

const newestScratch = new Float64Array(GRANULARITY_COUNT);
const oldestKeptScratch = new Float64Array(GRANULARITY_COUNT);
/** Per granularity, where the tile last added to is: the next increment most often goes to the same one. */
const lastTileScratch = new Int32Array(GRANULARITY_COUNT);

/**
 * Applies the first `count` increments to a state in place (the stream processor's writer and the
 * trainer's replay both use this): adds to the tile of each granularity, then prunes tiles out of
 * retention relative to the newest tile. Returns how many (increment, granularity) pairs were too
 * late to count.
 */
export function applyIncrements(
  state: EntityState,
  increments: readonly Increment[],
  count = increments.length,
): number {
  const newest = newestScratch.fill(-1);
  const oldestKept = oldestKeptScratch;
  const lastTile = lastTileScratch.fill(-1);
  let tiles = state.tiles;
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
    const key = tiles[at]!;
    const g = key >>> INDEX_BITS;
    const index = key & INDEX_MASK;
    if (index > newest[g]!) newest[g] = index;
  }
  for (let i = 0; i < count; i++) {
    const inc = increments[i]!;
    for (let g = 0; g < GRANULARITY_COUNT; g++) {
      const index = Math.floor(inc.at / TILE_MS_BY_ID[g]!);
      if (index > newest[g]!) newest[g] = index;
    }
  }
  for (let g = 0; g < GRANULARITY_COUNT; g++) oldestKept[g] = newest[g]! - RETENTION_BY_ID[g]! + 1;

  let late = 0;
  let prune = false;
  for (let i = 0; i < count; i++) {
    const inc = increments[i]!;
    const { counts } = inc;
    const impressions = counts.impressions ?? 0;
    const clicks = counts.clicks ?? 0;
    const carts = counts.carts ?? 0;
    const purchases = counts.purchases ?? 0;
    for (let g = 0; g < GRANULARITY_COUNT; g++) {
      const index = Math.floor(inc.at / TILE_MS_BY_ID[g]!);
      if (index < oldestKept[g]!) {
        late++;
        continue;
      }
      const key = g * 2 ** INDEX_BITS + index;
      let at = lastTile[g]!;
      if (at < 0 || tiles[at] !== key) at = findTile(tiles, state.tileCount, key);
      if (at < 0) {
        if ((state.tileCount + 1) * TILE_STRIDE > tiles.length) {
          const grown = tileArray(Math.max(8, state.tileCount * 2) * TILE_STRIDE);
          grown.set(
            tiles.length === state.tileCount * TILE_STRIDE ? tiles : tiles.subarray(0, state.tileCount * TILE_STRIDE),
          );
          state.tiles = tiles = grown;
        }
        at = state.tileCount++ * TILE_STRIDE;
        tiles[at] = key;
        tiles[at + 1] = 0;
        tiles[at + 2] = 0;
        tiles[at + 3] = 0;
        tiles[at + 4] = 0;
      }
      lastTile[g] = at;
      tiles[at + 1] = tiles[at + 1]! + impressions;
      tiles[at + 2] = tiles[at + 2]! + clicks;
      tiles[at + 3] = tiles[at + 3]! + carts;
      tiles[at + 4] = tiles[at + 4]! + purchases;
    }
    if (clicks > 0 && inc.at > state.lastClickAt) state.lastClickAt = inc.at;
    if (purchases > 0 && inc.at > state.lastPurchaseAt) state.lastPurchaseAt = inc.at;
  }
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
    const key = tiles[at]!;
    if ((key & INDEX_MASK) < oldestKept[key >>> INDEX_BITS]!) {
      prune = true;
      break;
    }
  }
  // Pruning keeps the order of the remaining tiles, as the Lua script does.
  if (prune) {
    let kept = 0;
    for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
      const key = tiles[at]!;
      if ((key & INDEX_MASK) < oldestKept[key >>> INDEX_BITS]!) continue;
      // Five values by hand: cheaper than a copyWithin call per tile.
      if (kept !== at) {
        tiles[kept] = key;
        tiles[kept + 1] = tiles[at + 1]!;
        tiles[kept + 2] = tiles[at + 2]!;
        tiles[kept + 3] = tiles[at + 3]!;
        tiles[kept + 4] = tiles[at + 4]!;
      }
      kept += TILE_STRIDE;
    }
    state.tileCount = kept / TILE_STRIDE;
  }
  return late;
}

/**
 * Room for `length` tile values, carved from a shared 16 KiB slab (as Node's Buffer pool does): a
 * state grown past the three tiles a new one holds on V8's heap would otherwise allocate a backing
 * store of its own (malloc, and an ArrayBuffer the garbage collector tracks), which cost more than
 * the rest of applyIncrements for the many entities that get one or two increments per batch. A slab
 * is freed when no state uses it any more. Not zeroed: only the first tileCount tiles are read.
 */
function tileArray(length: number): Uint32Array {
  const bytes = length * 4;
  if (bytes > SLAB_BYTES / 4) return new Uint32Array(length);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const tiles = new Uint32Array(slab, slabUsed, length);
  slabUsed += bytes;
  return tiles;
}
const SLAB_BYTES = 16 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function findTile(tiles: Uint32Array, count: number, key: number): number {
  // Newest tiles are appended last and most increments go to them: search from the end.
  for (let at = (count - 1) * TILE_STRIDE; at >= 0; at -= TILE_STRIDE) if (tiles[at] === key) return at;
  return -1;
}

/**
 * The boundaries of every window in WINDOWS as of one instant, computed once per request (ranker)
 * or per impression (backfill) and shared by all the entities summed against it.
 */
export interface WindowFrame {
  readonly nowMs: number;
  /** Per window: granularity id, first and last tile index counted (inclusive). */
  readonly granularity: Int32Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
}

const WINDOW_GRANULARITY = Int32Array.from(WINDOWS, (w) => GRANULARITIES[w.granularity].id);
/** Per granularity id, the windows on it: WINDOW_ORDER[WINDOWS_FROM[g] .. WINDOWS_FROM[g + 1]). */
const WINDOW_ORDER = Int32Array.from(
  WINDOWS.map((_, i) => i).sort((a, b) => WINDOW_GRANULARITY[a]! - WINDOW_GRANULARITY[b]! || a - b),
);
const WINDOWS_FROM = Int32Array.from({ length: 5 }, (_, g) =>
  WINDOW_ORDER.findIndex((w) => WINDOW_GRANULARITY[w]! >= g),
);
for (let g = 0; g < WINDOWS_FROM.length; g++) if (WINDOWS_FROM[g]! < 0) WINDOWS_FROM[g] = WINDOWS.length;

export function windowFrame(nowMs: number): WindowFrame {
  const first = new Float64Array(WINDOWS.length);
  const last = new Float64Array(WINDOWS.length);
  WINDOWS.forEach((w, i) => {
    const current = tileIndexAt(GRANULARITIES[w.granularity], nowMs);
    first[i] = current - w.tiles + 1;
    last[i] = current;
  });
  return { nowMs, granularity: WINDOW_GRANULARITY, first, last };
}

/** Values written by windowTotals: COUNTER_COUNT per window, windows in WINDOWS order. */
export const WINDOW_TOTALS_LENGTH = WINDOWS.length * COUNTER_COUNT;

/**
 * Sums every window of `frame` in one pass over the state's tiles into `out` at `offset`:
 * out[offset + w × COUNTER_COUNT + c] is counter c (COUNTERS order) of window w (WINDOWS order).
 * Tiles after "now" are ignored: they are the future. An absent state gives zeros.
 */
export function windowTotals(
  state: EntityState | undefined,
  frame: WindowFrame,
  out: Float64Array,
  offset = 0,
): Float64Array {
  out.fill(0, offset, offset + WINDOW_TOTALS_LENGTH);
  if (!state) return out;
  const { first, last } = frame;
  const tiles = state.tiles;
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
    const key = tiles[at]!;
    const g = key >>> INDEX_BITS;
    const index = key & INDEX_MASK;
    const to = WINDOWS_FROM[g + 1]!;
    for (let k = WINDOWS_FROM[g]!; k < to; k++) {
      const w = WINDOW_ORDER[k]!;
      if (index < first[w]! || index > last[w]!) continue;
      const o = offset + w * COUNTER_COUNT;
      out[o] = out[o]! + tiles[at + 1]!;
      out[o + 1] = out[o + 1]! + tiles[at + 2]!;
      out[o + 2] = out[o + 2]! + tiles[at + 3]!;
      out[o + 3] = out[o + 3]! + tiles[at + 4]!;
    }
  }
  return out;
}

/** Sums the tiles of one window as of `nowMs` (tiles after "now" are ignored: they are the future). */
export function windowCounts(state: EntityState | undefined, window: WindowSpec, nowMs: number): Counts {
  const total = zeroCounts();
  if (!state) return total;
  const g = GRANULARITIES[window.granularity].id;
  const current = Math.floor(nowMs / TILE_MS_BY_ID[g]!);
  const first = current - window.tiles + 1;
  const tiles = state.tiles;
  for (let i = 0, at = 0; i < state.tileCount; i++, at += TILE_STRIDE) {
    const key = tiles[at]!;
    const index = key & INDEX_MASK;
    if (key >>> INDEX_BITS !== g || index < first || index > current) continue;
    total.impressions += tiles[at + 1]!;
    total.clicks += tiles[at + 2]!;
    total.carts += tiles[at + 3]!;
    total.purchases += tiles[at + 4]!;
  }
  return total;
}
