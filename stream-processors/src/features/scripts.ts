import { GRANULARITIES, STATE_ENCODING_VERSION } from '@searchop/schemas';

/**
 * The Redis scripts that apply feature updates exactly once. Each is built from the same constants
 * as the TypeScript state codec and tile math (schemas/src/features), so the two cannot disagree.
 */

const granularities = Object.values(GRANULARITIES).sort((a, b) => a.id - b.id);
const luaGranularities = `{${granularities.map((g) => `{id=${g.id}, ms=${g.tileMs}, keep=${g.retention}}`).join(', ')}}`;

/**
 * apply-increments: KEYS = entity counter keys (EntityState, binary), any number; on a Redis Cluster
 * they must share one hash slot (the caller groups them by slot).
 * ARGV[1]: TTL seconds. ARGV[2]: one binary string with, for each key in KEYS order,
 *   u16 segment count S, then S × { u16 source, f64 min offset, f64 max offset, u16 entry count n,
 *   n × 7 f64 entries }
 * where an entry is (event time, impressions, clicks, carts, purchases, latest click time, latest
 * purchase time; 0 for none), one per finest tile (the caller sums the increments that fall in the
 * same 5-minute tile: they share every coarser tile too). All little-endian. A segment is the
 * key's updates from one source (topic partition) in one batch; segments of a key are applied in
 * order, each against that key's fence for its source — the highest offset applied, stored in the
 * key's own value, so a key's counts and its fences always move together in one SET:
 *  - a segment entirely at or below the fence is a replay: nothing happens (status 0);
 *  - a segment entirely above it is applied and moves the fence to its max offset (status 1);
 *  - a segment straddling it (a replay after a crash, with other batch boundaries) is refused
 *    (status -1); the caller re-sends it as one segment per offset.
 * Every key is read before any is written, so an error (a key of another slot, a wrong type) leaves
 * all keys untouched; the script as a whole is atomic (Redis runs it alone and persists and
 * replicates its writes as one transaction).
 * Returns the statuses of all segments in order, then the number of late (entry, granularity) pairs.
 */
export const APPLY_INCREMENTS_LUA = `
local VERSION = ${STATE_ENCODING_VERSION}
local GRANS = ${luaGranularities}
local TILE_SPAN = 1073741824
local ttl = tonumber(ARGV[1])
local blob = ARGV[2]
local unpack = struct.unpack
local pack = struct.pack
local floor = math.floor

local raws = {}
for i = 1, #KEYS do raws[i] = redis.call('GET', KEYS[i]) end

local statuses = {}
local late = 0
local pos = 1

for ki = 1, #KEYS do
  local raw = raws[ki]
  local fences, fenceOrder = {}, {}
  local tk, t1, t2, t3, t4 = {}, {}, {}, {}, {}
  local nt = 0
  local lastClick, lastPurchase = 0, 0
  if raw then
    local version, nf, ntiles, lc, lp, rpos = unpack('<BBHdd', raw)
    if version ~= VERSION then return redis.error_reply('unknown state encoding version ' .. version .. ' at ' .. KEYS[ki]) end
    lastClick, lastPurchase = lc, lp
    for i = 1, nf do
      local s, o
      s, o, rpos = unpack('<Hd', raw, rpos)
      fences[s] = o
      fenceOrder[i] = s
    end
    for i = 1, ntiles do
      tk[i], t1[i], t2[i], t3[i], t4[i], rpos = unpack('<I4I4I4I4I4', raw, rpos)
    end
    nt = ntiles
  end
  local changed = false
  local segments
  segments, pos = unpack('<H', blob, pos)
  for si = 1, segments do
    local source, minOffset, maxOffset, n
    source, minOffset, maxOffset, n, pos = unpack('<HddH', blob, pos)
    -- Entries as flat columns: event time, the four counts, latest click, latest purchase.
    local et, e1, e2, e3, e4, ec, ep = {}, {}, {}, {}, {}, {}, {}
    for i = 1, n do
      et[i], e1[i], e2[i], e3[i], e4[i], ec[i], ep[i], pos = unpack('<ddddddd', blob, pos)
    end
    local fence = fences[source]
    local status = 1
    if fence ~= nil then
      if maxOffset <= fence then status = 0 elseif minOffset <= fence then status = -1 end
    end
    statuses[#statuses + 1] = status
    if status == 1 then
      changed = true
      -- One pass over the tiles: their positions, and the newest and oldest index per granularity.
      local index, newest, oldest = {}, {}, {}
      for _, g in ipairs(GRANS) do newest[g.id] = -1; oldest[g.id] = math.huge end
      for i = 1, nt do
        local k = tk[i]
        local gid = floor(k / TILE_SPAN)
        local x = k % TILE_SPAN
        index[k] = i
        if x > newest[gid] then newest[gid] = x end
        if x < oldest[gid] then oldest[gid] = x end
      end
      local prune = false
      local oldestKept = {}
      for _, g in ipairs(GRANS) do
        local gid, ms = g.id, g.ms
        local nw = newest[gid]
        for i = 1, n do
          local x = floor(et[i] / ms)
          if x > nw then nw = x end
        end
        local keep = nw - g.keep + 1
        oldestKept[gid] = keep
        if oldest[gid] < keep then prune = true end
        for i = 1, n do
          local x = floor(et[i] / ms)
          if x < keep then
            late = late + 1
          else
            local k = gid * TILE_SPAN + x
            local at = index[k]
            if at == nil then
              nt = nt + 1
              at = nt
              tk[at], t1[at], t2[at], t3[at], t4[at] = k, 0, 0, 0, 0
              index[k] = at
            end
            t1[at] = t1[at] + e1[i]
            t2[at] = t2[at] + e2[i]
            t3[at] = t3[at] + e3[i]
            t4[at] = t4[at] + e4[i]
          end
        end
      end
      -- Prune tiles out of retention, keeping the order of the others.
      if prune then
        local kept = 0
        for i = 1, nt do
          local k = tk[i]
          if (k % TILE_SPAN) >= oldestKept[floor(k / TILE_SPAN)] then
            kept = kept + 1
            if kept ~= i then tk[kept], t1[kept], t2[kept], t3[kept], t4[kept] = k, t1[i], t2[i], t3[i], t4[i] end
          end
        end
        for i = kept + 1, nt do tk[i], t1[i], t2[i], t3[i], t4[i] = nil, nil, nil, nil, nil end
        nt = kept
      end
      for i = 1, n do
        if ec[i] > lastClick then lastClick = ec[i] end
        if ep[i] > lastPurchase then lastPurchase = ep[i] end
      end
      if fence == nil then fenceOrder[#fenceOrder + 1] = source end
      fences[source] = maxOffset
    end
  end
  if changed then
    local parts = {pack('<BBHdd', VERSION, #fenceOrder, nt, lastClick, lastPurchase)}
    for _, s in ipairs(fenceOrder) do parts[#parts + 1] = pack('<Hd', s, fences[s]) end
    for i = 1, nt do parts[#parts + 1] = pack('<I4I4I4I4I4', tk[i], t1[i], t2[i], t3[i], t4[i]) end
    redis.call('SET', KEYS[ki], table.concat(parts), 'EX', ttl)
  end
end
statuses[#statuses + 1] = late
return statuses
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
