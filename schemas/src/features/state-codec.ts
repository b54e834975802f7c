import { endianness } from 'node:os';
import { EntityState, FENCE_BYTES, TILE_STRIDE } from './tiles.ts';

/**
 * The compact binary encoding of an EntityState, one Redis string per entity, so that the ranker
 * fetches all candidates with one MGET and decodes with one copy. The Lua script in
 * stream-processors (scripts.ts) reads and writes exactly this layout; a change here is a new
 * STATE_ENCODING_VERSION and a change there.
 *
 *   u8  version            u8  fence count F       u16 tile count T
 *   f64 lastClickAt        f64 lastPurchaseAt
 *   F × { u16 source, f64 offset }                  (exactly-once fences)
 *   T × { u32 tile key, u32 impressions, u32 clicks, u32 carts, u32 purchases }
 * all little-endian. The tiles are EntityState.tiles byte for byte (on a little-endian machine), so
 * decoding is one memory copy and encoding another.
 */
export const STATE_ENCODING_VERSION = 1;
const HEADER_BYTES = 20;
const TILE_BYTES = TILE_STRIDE * 4;
const LITTLE_ENDIAN = endianness() === 'LE';

export function encodeState(state: EntityState): Buffer {
  const buffer = Buffer.allocUnsafe(encodedStateLength(state));
  encodeStateInto(state, buffer, 0);
  return buffer;
}

/** Bytes encodeState writes for `state`. */
export function encodedStateLength(state: EntityState): number {
  return HEADER_BYTES + state.fenceCount * FENCE_BYTES + state.tileCount * TILE_BYTES;
}

/** Encodes `state` into `buffer` at `offset` (encodedStateLength bytes); returns the offset after it. */
export function encodeStateInto(state: EntityState, buffer: Buffer, offset: number): number {
  let at = encodeStateStampInto(state, buffer, offset);
  const tiles = state.tiles;
  const values = state.tileCount * TILE_STRIDE;
  // A few tiles value by value (no view object per call; most entities have a few), more in one copy.
  if (LITTLE_ENDIAN && values > 64) {
    buffer.set(new Uint8Array(tiles.buffer, tiles.byteOffset, values * 4), at);
    return at + values * 4;
  }
  for (let i = 0; i < values; i++, at += 4) buffer.writeUInt32LE(tiles[i]!, at);
  return at;
}

/**
 * Encodes the stamp of `state` — the header and fences encodeStateInto writes, the bytes stateStamp
 * reads from its encoding — into `buffer` at `offset`; returns the offset after it.
 * A writer that holds the state it last read or wrote can so send the stamp that value has in Redis
 * without keeping a copy of it.
 */
export function encodeStateStampInto(state: EntityState, buffer: Buffer, offset: number): number {
  const fenceCount = state.fenceCount;
  buffer[offset] = STATE_ENCODING_VERSION;
  buffer.writeUInt8(fenceCount, offset + 1);
  buffer.writeUInt16LE(state.tileCount, offset + 2);
  buffer.writeDoubleLE(state.lastClickAt, offset + 4);
  buffer.writeDoubleLE(state.lastPurchaseAt, offset + 12);
  // No fences (a pair's state): nothing to write, and no Map to make for them.
  if (fenceCount === 0) return offset + HEADER_BYTES;
  const fences = state.fences;
  // forEach with a static callback and a reused cursor: no iterator, entry arrays or closure per call.
  fenceCursor.buffer = buffer;
  fenceCursor.at = offset + HEADER_BYTES;
  fences.forEach(writeFence, fenceCursor);
  const at = fenceCursor.at;
  fenceCursor.buffer = EMPTY;
  return at;
}

const EMPTY = Buffer.alloc(0);
const fenceCursor: { buffer: Buffer; at: number } = { buffer: EMPTY, at: 0 };
function writeFence(this: typeof fenceCursor, fence: number, source: number): void {
  this.buffer.writeUInt16LE(source, this.at);
  this.buffer.writeDoubleLE(fence, this.at + 2);
  this.at += FENCE_BYTES;
}

/**
 * The stamp of an encoded state: its header and fences, which every write changes (each moves a
 * fence up), so a writer can compare-and-set on it (stream-processors' FeatureWriter). A latin1
 * string, one character per byte (`Buffer.from(stamp, 'latin1')` gives the bytes back): a small heap
 * string that shares no memory with `encoded`.
 */
export function stateStamp(encoded: Buffer, offset = 0): string {
  const length = HEADER_BYTES + (encoded[offset + 1] ?? 0) * FENCE_BYTES;
  if (encoded.length < offset + length)
    throw new Error(`truncated entity state: ${encoded.length - offset} bytes, ${length} expected`);
  return encoded.toString('latin1', offset, offset + length);
}

/**
 * Decodes a state; undefined for an absent key. Throws on an unknown encoding version or a
 * truncated value. The state does not share memory with `buffer`: its tiles and encoded fences are
 * copied into one small Buffer (from Node's pool, 8-byte aligned, so no allocation of its own), the
 * tiles first so that the Uint32Array over them is aligned; fences are decoded only if read.
 */
export function decodeState(buffer: Buffer | null | undefined): EntityState | undefined {
  if (!buffer || buffer.length === 0) return undefined;
  const version = buffer[0]!;
  if (version !== STATE_ENCODING_VERSION) throw new Error(`unknown entity state encoding version ${version}`);
  if (buffer.length < HEADER_BYTES) throw new Error(`truncated entity state: ${buffer.length} bytes`);
  const fenceCount = buffer[1]!;
  const tileCount = buffer[2]! | (buffer[3]! << 8);
  const fenceBytes = fenceCount * FENCE_BYTES;
  const tileStart = HEADER_BYTES + fenceBytes;
  const tileBytes = tileCount * TILE_BYTES;
  const end = tileStart + tileBytes;
  if (buffer.length < end) throw new Error(`truncated entity state: ${buffer.length} bytes, ${end} expected`);
  const copy = Buffer.allocUnsafe(tileBytes + fenceBytes);
  buffer.copy(copy, 0, tileStart, end);
  let tiles: Uint32Array;
  if (LITTLE_ENDIAN) {
    tiles = new Uint32Array(copy.buffer, copy.byteOffset, tileCount * TILE_STRIDE);
  } else {
    tiles = new Uint32Array(tileCount * TILE_STRIDE);
    for (let i = 0; i < tiles.length; i++) tiles[i] = copy.readUInt32LE(i * 4);
  }
  const state = new EntityState(tiles, tileCount);
  state.lastClickAt = buffer.readDoubleLE(4);
  state.lastPurchaseAt = buffer.readDoubleLE(12);
  if (fenceCount > 0) {
    buffer.copy(copy, tileBytes, HEADER_BYTES, tileStart);
    state.setEncodedFences(copy.subarray(tileBytes), fenceCount);
  }
  return state;
}
