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
 */

export const COUNTERS = ['impressions', 'clicks', 'carts', 'purchases'] as const;
export type CounterName = (typeof COUNTERS)[number];
export type Counts = Record<CounterName, number>;

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

/** A tile key packs the granularity (top 2 bits) and the tile index since the epoch (low 30 bits). */
export function tileKey(granularity: Granularity, index: number): number {
  return granularity.id * 2 ** 30 + index;
}
export function tileGranularity(key: number): Granularity {
  return GRANULARITY_BY_ID[Math.floor(key / 2 ** 30)]!;
}
export function tileIndex(key: number): number {
  return key % 2 ** 30;
}
export function tileIndexAt(granularity: Granularity, timeMs: number): number {
  return Math.floor(timeMs / granularity.tileMs);
}

/** The decoded state of one entity (a product, a query, a query–product pair or the global total). */
export interface EntityState {
  /** Tile key → counts. */
  readonly tiles: Map<number, Counts>;
  /** Event time of the latest click / purchase (0: never). */
  lastClickAt: number;
  lastPurchaseAt: number;
  /** Source (topic index × 1024 + Kafka partition) → highest offset applied: the exactly-once fence. */
  readonly fences: Map<number, number>;
}

export function emptyState(): EntityState {
  return { tiles: new Map(), lastClickAt: 0, lastPurchaseAt: 0, fences: new Map() };
}

export function zeroCounts(): Counts {
  return { impressions: 0, clicks: 0, carts: 0, purchases: 0 };
}

/** An increment of counters at an event time: what one event contributes to one entity. */
export interface Increment {
  readonly at: number;
  readonly counts: Partial<Counts>;
}

/**
 * Applies increments to a state in place, as the Redis script does: adds to the tile of each
 * granularity, then prunes tiles out of retention relative to the newest tile. Returns how many
 * (increment, granularity) pairs were too late to count.
 */
export function applyIncrements(state: EntityState, increments: readonly Increment[]): number {
  let late = 0;
  for (const granularity of GRANULARITY_BY_ID) {
    let newest = newestIndex(state, granularity);
    for (const inc of increments) newest = Math.max(newest, tileIndexAt(granularity, inc.at));
    const oldestKept = newest - granularity.retention + 1;
    for (const inc of increments) {
      const index = tileIndexAt(granularity, inc.at);
      if (index < oldestKept) {
        late++;
        continue;
      }
      const key = tileKey(granularity, index);
      const counts = state.tiles.get(key) ?? zeroCounts();
      for (const name of COUNTERS) counts[name] += inc.counts[name] ?? 0;
      state.tiles.set(key, counts);
    }
    for (const key of [...state.tiles.keys()]) {
      if (tileGranularity(key) === granularity && tileIndex(key) < oldestKept) state.tiles.delete(key);
    }
  }
  for (const inc of increments) {
    if ((inc.counts.clicks ?? 0) > 0) state.lastClickAt = Math.max(state.lastClickAt, inc.at);
    if ((inc.counts.purchases ?? 0) > 0) state.lastPurchaseAt = Math.max(state.lastPurchaseAt, inc.at);
  }
  return late;
}

function newestIndex(state: EntityState, granularity: Granularity): number {
  let newest = -1;
  for (const key of state.tiles.keys())
    if (tileGranularity(key) === granularity) newest = Math.max(newest, tileIndex(key));
  return newest;
}

/** Sums the tiles of a window as of `nowMs` (tiles after "now" are ignored: they are the future). */
export function windowCounts(state: EntityState | undefined, window: WindowSpec, nowMs: number): Counts {
  const total = zeroCounts();
  if (!state) return total;
  const granularity = GRANULARITIES[window.granularity];
  const current = tileIndexAt(granularity, nowMs);
  const first = current - window.tiles + 1;
  for (const [key, counts] of state.tiles) {
    if (tileGranularity(key) !== granularity) continue;
    const index = tileIndex(key);
    if (index < first || index > current) continue;
    for (const name of COUNTERS) total[name] += counts[name];
  }
  return total;
}
