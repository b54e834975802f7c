/**
 * The Redis scripts that apply feature updates exactly once. The counters' arithmetic is not here:
 * it is the TypeScript tile code (schemas/src/features) the trainer's backfill uses too; Redis only
 * checks stamps and stores values.
 */
import { createHash } from 'node:crypto';

/**
 * The command name of a script defined on an ioredis client (defineCommand), by its hash: a client
 * can carry two versions of a script.
 */
export function scriptName(name: string, lua: string): string {
  return `${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 8)}_`;
}

/**
 * compare-and-set-states: KEYS = entity counter keys; on a Redis Cluster they must share one hash
 * slot (the caller groups them by slot). ARGV[1]: TTL seconds; ARGV[2]: n, the number of real keys
 * (KEYS past n are padding, never touched); ARGV[3]: one binary string with, for each of the n keys
 * in KEYS order, u16 stamp length, the stamp the key must still have (its encoded header and fences
 * — stateStamp in schemas/src/features/state-codec.ts — or nothing for "absent"), u32 value length
 * and the new value; little-endian. A key whose current stamp differs (another writer moved a fence
 * meanwhile) is left alone: the caller reads it again and recomputes. Every write moves a fence up,
 * so an unchanged stamp means an unchanged state.
 * Returns per key: 1 written, 0 changed meanwhile.
 *
 * One command per key in the common case: SET … GET writes the new value and returns the old one,
 * whose stamp is then compared; on a mismatch (contention, rare) the old value is put back — or the
 * key deleted if it was absent — before the script returns, so no other client ever sees the new
 * value. (A GETRANGE of the stamp then a SET cost one more command per key, ~30% of the script's
 * Redis CPU.) A value put back gets the TTL afresh: it was just written by another writer with the
 * same TTL, and the caller rewrites the key next round anyway.
 */
export const COMPARE_AND_SET_STATES_LUA = `
local ttl = ARGV[1]
local n = tonumber(ARGV[2])
local blob = ARGV[3]
local unpack, sub, call = struct.unpack, string.sub, redis.call
local pos = 1
local statuses = {}
for i = 1, n do
  local stampLength, valueLength
  stampLength, pos = unpack('<H', blob, pos)
  local stampEnd = pos + stampLength - 1
  local stampAt = pos
  pos = stampEnd + 1
  valueLength, pos = unpack('<I4', blob, pos)
  local key = KEYS[i]
  local old = call('SET', key, sub(blob, pos, pos + valueLength - 1), 'EX', ttl, 'GET')
  local same
  if stampLength == 0 then
    same = not old
  else
    same = old and sub(old, 1, stampLength) == sub(blob, stampAt, stampEnd)
  end
  if same then
    statuses[i] = 1
  else
    if old then call('SET', key, old, 'EX', ttl) else call('DEL', key) end
    statuses[i] = 0
  end
  pos = pos + valueLength
end
return statuses
`;

/**
 * compare-and-set-pairs: KEYS = query pairs hashes (schemas' KeyLayout.queryPairs); on a Redis Cluster
 * they must share one hash slot. ARGV[1]: TTL seconds; ARGV[2]: n, the number of real keys (KEYS past
 * n are padding); ARGV[3]: one binary string with, for each of the n hashes in KEYS order: u16 stamp
 * length and the value the hash's fences field ("f", PAIR_FENCES_FIELD) must still hold (nothing:
 * the field must not exist), u32 number of pair fields, per field u16 name length, the name, u32 value
 * length and the value, then u32 length and the new fences value; little-endian. A hash whose fences
 * differ (another writer moved one meanwhile) is left alone: the caller reads it again and recomputes.
 * Every write moves a fence up, so unchanged fences mean an unchanged hash. The pairs and the fences
 * are written together (HSET, ~500 fields per command) and the key's TTL renewed.
 * Returns per hash: 1 written, 0 changed meanwhile.
 */
export const COMPARE_AND_SET_PAIRS_LUA = `
local ttl = ARGV[1]
local n = tonumber(ARGV[2])
local blob = ARGV[3]
local spread, unpack, sub, call = unpack, struct.unpack, string.sub, redis.call
local pos = 1
local statuses = {}
for i = 1, n do
  local key = KEYS[i]
  local stampLength, fields, fencesLength
  stampLength, pos = unpack('<H', blob, pos)
  local stamp = sub(blob, pos, pos + stampLength - 1)
  pos = pos + stampLength
  local old = call('HGET', key, 'f')
  local same
  if stampLength == 0 then same = not old else same = old == stamp end
  fields, pos = unpack('<I4', blob, pos)
  local args, a = { key }, 1
  for f = 1, fields do
    local nameLength, valueLength
    nameLength, pos = unpack('<H', blob, pos)
    local nameAt = pos
    pos = pos + nameLength
    valueLength, pos = unpack('<I4', blob, pos)
    if same then
      args[a + 1] = sub(blob, nameAt, nameAt + nameLength - 1)
      args[a + 2] = sub(blob, pos, pos + valueLength - 1)
      a = a + 2
      if a >= 1001 then
        call('HSET', spread(args))
        args, a = { key }, 1
      end
    end
    pos = pos + valueLength
  end
  fencesLength, pos = unpack('<I4', blob, pos)
  if same then
    args[a + 1] = 'f'
    args[a + 2] = sub(blob, pos, pos + fencesLength - 1)
    call('HSET', spread(args))
    call('EXPIRE', key, ttl)
    statuses[i] = 1
  else
    statuses[i] = 0
  end
  pos = pos + fencesLength
end
return statuses
`;

/**
 * delete-idle-pairs: KEYS[1] = a query pairs hash; ARGV = field, value, field, value, …: the pairs the
 * pruner judged idle, each with the value it judged. Deletes a field only if it still holds exactly
 * that value — a writer that updated the pair since (a new event) keeps it — and never the fences
 * field ("f", PAIR_FENCES_FIELD). Returns the number of fields deleted.
 */
export const DELETE_IDLE_PAIRS_LUA = `
local key, call = KEYS[1], redis.call
local deleted = 0
for i = 1, #ARGV, 2 do
  local field = ARGV[i]
  if field ~= 'f' and call('HGET', key, field) == ARGV[i + 1] then
    deleted = deleted + call('HDEL', key, field)
  end
end
return deleted
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
