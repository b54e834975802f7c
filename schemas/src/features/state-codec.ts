import { COUNTERS, emptyState, type EntityState } from './tiles.ts';

/**
 * The compact binary encoding of an EntityState, one Redis string per entity, so that the ranker
 * fetches all candidates with one MGET and decodes with a DataView. The Lua script in
 * stream-processors (apply-increments.lua) reads and writes exactly this layout; a change here is a
 * new STATE_ENCODING_VERSION and a change there.
 *
 *   u8  version            u8  fence count F       u16 tile count T
 *   f64 lastClickAt        f64 lastPurchaseAt
 *   F × { u16 source, f64 offset }                  (exactly-once fences)
 *   T × { u32 tile key, u32 impressions, u32 clicks, u32 carts, u32 purchases }
 * all little-endian.
 */
export const STATE_ENCODING_VERSION = 1;
const HEADER_BYTES = 20;
const FENCE_BYTES = 10;
const TILE_BYTES = 20;

export function encodeState(state: EntityState): Buffer {
  const buffer = Buffer.alloc(HEADER_BYTES + state.fences.size * FENCE_BYTES + state.tiles.size * TILE_BYTES);
  buffer.writeUInt8(STATE_ENCODING_VERSION, 0);
  buffer.writeUInt8(state.fences.size, 1);
  buffer.writeUInt16LE(state.tiles.size, 2);
  buffer.writeDoubleLE(state.lastClickAt, 4);
  buffer.writeDoubleLE(state.lastPurchaseAt, 12);
  let at = HEADER_BYTES;
  for (const [source, offset] of state.fences) {
    buffer.writeUInt16LE(source, at);
    buffer.writeDoubleLE(offset, at + 2);
    at += FENCE_BYTES;
  }
  for (const [key, counts] of state.tiles) {
    buffer.writeUInt32LE(key, at);
    for (let i = 0; i < COUNTERS.length; i++) buffer.writeUInt32LE(counts[COUNTERS[i]!], at + 4 + 4 * i);
    at += TILE_BYTES;
  }
  return buffer;
}

/** Decodes a state; undefined for an absent key. Throws on an unknown encoding version. */
export function decodeState(buffer: Buffer | null | undefined): EntityState | undefined {
  if (!buffer || buffer.length === 0) return undefined;
  const version = buffer.readUInt8(0);
  if (version !== STATE_ENCODING_VERSION) throw new Error(`unknown entity state encoding version ${version}`);
  const state = emptyState();
  const fences = buffer.readUInt8(1);
  const tiles = buffer.readUInt16LE(2);
  state.lastClickAt = buffer.readDoubleLE(4);
  state.lastPurchaseAt = buffer.readDoubleLE(12);
  let at = HEADER_BYTES;
  for (let i = 0; i < fences; i++, at += FENCE_BYTES)
    state.fences.set(buffer.readUInt16LE(at), buffer.readDoubleLE(at + 2));
  for (let i = 0; i < tiles; i++, at += TILE_BYTES) {
    state.tiles.set(buffer.readUInt32LE(at), {
      impressions: buffer.readUInt32LE(at + 4),
      clicks: buffer.readUInt32LE(at + 8),
      carts: buffer.readUInt32LE(at + 12),
      purchases: buffer.readUInt32LE(at + 16),
    });
  }
  return state;
}
