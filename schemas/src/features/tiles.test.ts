import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, encodeStateStampInto, stateStamp } from './state-codec.ts';
import {
  GRANULARITIES,
  WINDOWS,
  WINDOW_TOTALS_LENGTH,
  applyIncrements,
  emptyState,
  latestEventAt,
  tileCounts,
  tileEntries,
  tileKey,
  windowCounts,
  windowFrame,
  windowTotals,
  type EntityState,
  type Increment,
} from './tiles.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const window = (name: string) => WINDOWS.find((w) => w.name === name)!;

describe('tiles', () => {
  it('counts an event in every window that covers it, and none that does not', () => {
    const state = emptyState();
    applyIncrements(state, [{ at: T0, counts: { impressions: 1, clicks: 1 } }]);
    expect(windowCounts(state, window('1h'), T0).clicks).toBe(1);
    expect(windowCounts(state, window('1h'), T0 + 54 * MIN).clicks).toBe(1);
    expect(windowCounts(state, window('1h'), T0 + 61 * MIN).clicks).toBe(0);
    expect(windowCounts(state, window('24h'), T0 + 23 * HOUR).clicks).toBe(1);
    expect(windowCounts(state, window('24h'), T0 + 25 * HOUR).clicks).toBe(0);
    expect(windowCounts(state, window('7d'), T0 + 6 * DAY).clicks).toBe(1);
    expect(windowCounts(state, window('7d'), T0 + 7 * DAY).clicks).toBe(0);
    expect(windowCounts(state, window('30d'), T0 + 29 * DAY).impressions).toBe(1);
    // An event after "now" is the future: not counted.
    expect(windowCounts(state, window('30d'), T0 - DAY).impressions).toBe(0);
  });

  it('drops tiles out of retention relative to the newest event and counts late events', () => {
    const state = emptyState();
    applyIncrements(state, [{ at: T0, counts: { impressions: 1 } }]);
    const late = applyIncrements(state, [{ at: T0 + 2 * HOUR, counts: { impressions: 1 } }]);
    expect(late).toBe(0);
    // The 5-minute tile of T0 is now out of the 13-tile retention; hourly and daily remain.
    expect(tileCounts(state, tileKey(GRANULARITIES.fiveMinutes, T0 / (5 * MIN)))).toBeUndefined();
    expect(tileCounts(state, tileKey(GRANULARITIES.hour, T0 / HOUR))?.impressions).toBe(1);
    // An event 90 minutes older than the newest is too late for the 5-minute tiles only.
    expect(applyIncrements(state, [{ at: T0 + 30 * MIN, counts: { impressions: 1 } }])).toBe(1);
    expect(windowCounts(state, window('24h'), T0 + 2 * HOUR).impressions).toBe(3);
  });

  it("bounds a state's newest event by the end of its newest tile, whatever arrived late", () => {
    const state = emptyState();
    expect(latestEventAt(state)).toBe(Number.NEGATIVE_INFINITY);
    applyIncrements(state, [{ at: T0 + 2 * MIN, counts: { impressions: 1 } }]);
    // The newest event's 5-minute tile ends at T0 + 5 min (T0 is a tile boundary).
    expect(latestEventAt(state)).toBe(T0 + 5 * MIN - 1);
    // A late event (counted in hourly and daily tiles only) and an older click move nothing.
    applyIncrements(state, [{ at: T0 - 3 * HOUR, counts: { clicks: 1 } }]);
    expect(latestEventAt(state)).toBe(T0 + 5 * MIN - 1);
    applyIncrements(state, [{ at: T0 + DAY + 1, counts: { impressions: 1 } }]);
    expect(latestEventAt(state)).toBe(T0 + DAY + 5 * MIN - 1);
    // It survives the encoding (the pair pruner judges decoded states).
    expect(latestEventAt(decodeState(encodeState(state))!)).toBe(T0 + DAY + 5 * MIN - 1);
  });

  it('reaches the same state whatever the order of the events', () => {
    const events: Increment[] = Array.from({ length: 300 }, (_, i) => ({
      at: T0 + ((i * 7919) % (40 * DAY)),
      counts: { impressions: 1 + (i % 3), clicks: i % 2, carts: i % 5 === 0 ? 1 : 0, purchases: i % 11 === 0 ? 1 : 0 },
    }));
    const forward = emptyState();
    for (const e of events) applyIncrements(forward, [e]);
    const backward = emptyState();
    for (const e of [...events].reverse()) applyIncrements(backward, [e]);
    const batched = emptyState();
    applyIncrements(batched, events);
    const sorted = (s: EntityState) => tileEntries(s);
    expect(sorted(backward)).toEqual(sorted(forward));
    expect(sorted(batched)).toEqual(sorted(forward));
    expect(backward.lastClickAt).toBe(forward.lastClickAt);
  });

  it('encodes and decodes a state losslessly', () => {
    const state = emptyState();
    applyIncrements(state, [
      { at: T0, counts: { impressions: 4_000_000_000, clicks: 3 } },
      { at: T0 + DAY, counts: { purchases: 1 } },
    ]);
    state.fences.set(3 * 1024 + 5, 9_007_199_254_740_991);
    const decoded = decodeState(encodeState(state))!;
    expect(tileEntries(decoded)).toEqual(tileEntries(state));
    expect([decoded.lastClickAt, decoded.lastPurchaseAt]).toEqual([state.lastClickAt, state.lastPurchaseAt]);
    expect([...decoded.fences]).toEqual([[3 * 1024 + 5, 9_007_199_254_740_991]]);
    // A decoded state can be updated and re-encoded (its tiles grow past the decoded ones).
    applyIncrements(decoded, [{ at: T0 + 2 * DAY, counts: { clicks: 2 } }]);
    const again = decodeState(encodeState(decoded))!;
    expect(tileEntries(again)).toEqual(tileEntries(decoded));
    expect(again.fences.get(3 * 1024 + 5)).toBe(9_007_199_254_740_991);
    expect(decodeState(null)).toBeUndefined();
    expect(() => decodeState(Buffer.from([9, 0, 0, 0]))).toThrow(/version 9/);
    expect(() => decodeState(encodeState(state).subarray(0, 30))).toThrow(/truncated/);
  });

  it("encodes a state's stamp as the header and fences of its encoding, also for a decoded state", () => {
    const state = emptyState();
    applyIncrements(state, [{ at: T0, counts: { clicks: 1 } }]);
    state.fences.set(7, 41);
    state.fences.set(1024 + 2, 5);
    const decoded = decodeState(encodeState(state))!;
    for (const s of [state, decoded]) {
      const buffer = Buffer.alloc(64, 0xee);
      const end = encodeStateStampInto(s, buffer, 3);
      expect(end).toBe(3 + 20 + 2 * 10);
      expect(buffer.toString('latin1', 3, end)).toBe(stateStamp(encodeState(state)));
      expect(buffer[end]).toBe(0xee);
    }
  });

  it('sums every window in one pass exactly as window by window, at any alignment of the buffer', () => {
    const state = emptyState();
    const events: Increment[] = Array.from({ length: 500 }, (_, i) => ({
      at: T0 + ((i * 104_729) % (35 * DAY)),
      counts: {
        impressions: 1 + (i % 4),
        clicks: i % 3 === 0 ? 1 : 0,
        carts: i % 7 === 0 ? 1 : 0,
        purchases: i % 13 === 0 ? 1 : 0,
      },
    }));
    applyIncrements(state, events);
    for (let fences = 0; fences < 4; fences++) {
      const source = emptyState();
      applyIncrements(source, events);
      for (let f = 0; f < fences; f++) source.fences.set(f, f * 1000);
      // Decoding copes with a value at an odd position inside a larger buffer (as a reply parser may give).
      const encoded = encodeState(source);
      const shifted = Buffer.concat([Buffer.from([0xff]), encoded]).subarray(1);
      const decoded = decodeState(shifted)!;
      for (const now of [T0, T0 + 34 * DAY + 7 * MIN, T0 + 35 * DAY + HOUR, T0 + 12 * HOUR]) {
        const totals = windowTotals(decoded, windowFrame(now), new Float64Array(WINDOW_TOTALS_LENGTH + 2), 1);
        WINDOWS.forEach((w, i) => {
          const c = windowCounts(state, w, now);
          expect([...totals.subarray(1 + i * 4, 5 + i * 4)]).toEqual([c.impressions, c.clicks, c.carts, c.purchases]);
        });
      }
    }
  });
});
