import { GRANULARITIES, STATE_ENCODING_VERSION } from '@searchop/schemas';

/**
 * The Redis scripts that apply feature updates exactly once. Each is built from the same constants
 * as the TypeScript state codec and tile math (schemas/src/features), so the two cannot disagree.
 */

const granularities = Object.values(GRANULARITIES).sort((a, b) => a.id - b.id);
const luaGranularities = `{${granularities.map((g) => `{id=${g.id}, ms=${g.tileMs}, keep=${g.retention}}`).join(', ')}}`;

/**
 * apply-increments: KEYS[1] an entity's counters (EntityState, binary).
 * ARGV: source, min offset, max offset, TTL seconds, entries — a binary string of n entries, each 7
 * little-endian doubles (event time, impressions, clicks, carts, purchases, latest click time,
 * latest purchase time; 0 for none), one entry per finest tile (the caller sums the increments that
 * fall in the same 5-minute tile: they share every coarser tile too). One string argument rather
 * than n × 7 arguments, so a batch of any size fits in one call.
 * The fence for `source` is the highest offset applied. A batch entirely at or below it is a replay:
 * nothing happens (status 0). A batch entirely above it is applied (status 1) and moves the fence to
 * max offset. A batch straddling it (a replay after a crash with other batch boundaries) is refused
 * (status -1) and the caller re-sends it event by event, each with its own offset.
 * Returns {status, late entries}.
 */
export const APPLY_INCREMENTS_LUA = `
local VERSION = ${STATE_ENCODING_VERSION}
local GRANS = ${luaGranularities}
local TILE_SPAN = 1073741824
local source = tonumber(ARGV[1])
local minOffset = tonumber(ARGV[2])
local maxOffset = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local packed = ARGV[5]
local ENTRY = 56
local n = #packed / ENTRY
local entries = {}
for i = 1, n do
  entries[i] = {struct.unpack('<ddddddd', packed, (i - 1) * ENTRY + 1)}
end

local raw = redis.call('GET', KEYS[1])
local fences, fenceOrder, tiles, tileOrder = {}, {}, {}, {}
local lastClick, lastPurchase = 0, 0
if raw then
  local version, nf, nt, lc, lp, pos = struct.unpack('<BBHdd', raw)
  if version ~= VERSION then return redis.error_reply('unknown state encoding version ' .. version) end
  lastClick, lastPurchase = lc, lp
  for i = 1, nf do
    local s, o
    s, o, pos = struct.unpack('<Hd', raw, pos)
    fences[s] = o
    fenceOrder[#fenceOrder + 1] = s
  end
  for i = 1, nt do
    local k, a, b, c, d
    k, a, b, c, d, pos = struct.unpack('<I4I4I4I4I4', raw, pos)
    tiles[k] = {a, b, c, d}
    tileOrder[#tileOrder + 1] = k
  end
end

local fence = fences[source]
if fence ~= nil then
  if maxOffset <= fence then return {0, 0} end
  if minOffset <= fence then return {-1, 0} end
end

local late = 0
for _, g in ipairs(GRANS) do
  local newest = -1
  for _, k in ipairs(tileOrder) do
    if math.floor(k / TILE_SPAN) == g.id then newest = math.max(newest, k % TILE_SPAN) end
  end
  for i = 1, n do
    newest = math.max(newest, math.floor(entries[i][1] / g.ms))
  end
  local oldestKept = newest - g.keep + 1
  for i = 1, n do
    local e = entries[i]
    local index = math.floor(e[1] / g.ms)
    if index < oldestKept then
      late = late + 1
    else
      local k = g.id * TILE_SPAN + index
      local t = tiles[k]
      if t == nil then
        t = {0, 0, 0, 0}
        tiles[k] = t
        tileOrder[#tileOrder + 1] = k
      end
      for c = 1, 4 do t[c] = t[c] + e[c + 1] end
    end
  end
  local kept = {}
  for _, k in ipairs(tileOrder) do
    if math.floor(k / TILE_SPAN) ~= g.id or (k % TILE_SPAN) >= oldestKept then kept[#kept + 1] = k else tiles[k] = nil end
  end
  tileOrder = kept
end

for i = 1, n do
  local e = entries[i]
  if e[6] > lastClick then lastClick = e[6] end
  if e[7] > lastPurchase then lastPurchase = e[7] end
end

if fence == nil then fenceOrder[#fenceOrder + 1] = source end
fences[source] = maxOffset

local parts = {struct.pack('<BBHdd', VERSION, #fenceOrder, #tileOrder, lastClick, lastPurchase)}
for _, s in ipairs(fenceOrder) do parts[#parts + 1] = struct.pack('<Hd', s, fences[s]) end
for _, k in ipairs(tileOrder) do
  local t = tiles[k]
  parts[#parts + 1] = struct.pack('<I4I4I4I4I4', k, t[1], t[2], t[3], t[4])
end
redis.call('SET', KEYS[1], table.concat(parts), 'EX', ttl)
return {1, late}
`;

/**
 * apply-catalog: KEYS = [catalogue entry, document frequencies, text stats, catalogue fences].
 * ARGV: source, offset, op ("UPSERT" | "DELETE"), entry JSON (UPSERT), then the entry's title terms.
 * Applies one catalogue record exactly once: skips it when the partition's fence is at or past its
 * offset; otherwise replaces the entry and moves document frequencies and title-length totals by the
 * difference between the old and new title terms. Returns 1 applied, 0 skipped.
 */
export const APPLY_CATALOG_LUA = `
local source = ARGV[1]
local offset = tonumber(ARGV[2])
local op = ARGV[3]
local fence = tonumber(redis.call('HGET', KEYS[4], source) or '-1')
if offset <= fence then return 0 end

local function distinct(list)
  local set, n = {}, 0
  for _, t in ipairs(list) do if not set[t] then set[t] = true; n = n + 1 end end
  return set, n
end

local oldTerms, oldLength, existed = {}, 0, false
local oldRaw = redis.call('GET', KEYS[1])
if oldRaw then
  local old = cjson.decode(oldRaw)
  oldTerms = old.t
  oldLength = #old.t
  existed = true
end
local newTerms, newLength, exists = {}, 0, false
if op == 'UPSERT' then
  for i = 5, #ARGV do newTerms[#newTerms + 1] = ARGV[i] end
  newLength = #newTerms
  exists = true
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end

local oldSet = distinct(oldTerms)
local newSet = distinct(newTerms)
for t in pairs(oldSet) do if not newSet[t] then
  if redis.call('HINCRBY', KEYS[2], t, -1) <= 0 then redis.call('HDEL', KEYS[2], t) end
end end
for t in pairs(newSet) do if not oldSet[t] then redis.call('HINCRBY', KEYS[2], t, 1) end end
local docs = (exists and 1 or 0) - (existed and 1 or 0)
if docs ~= 0 then redis.call('HINCRBY', KEYS[3], 'documents', docs) end
if newLength ~= oldLength then redis.call('HINCRBY', KEYS[3], 'total_length', newLength - oldLength) end
redis.call('HSET', KEYS[4], source, offset)
return 1
`;
