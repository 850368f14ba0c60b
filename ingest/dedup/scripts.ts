/**
 * Lua scripts for the dedup keys (DESIGN §3). Each runs atomically on the one
 * Redis node that owns the key's hash slot (`{<region>}`), so concurrent
 * requests for one credential or one voter are serialised by Redis.
 *
 * A key's value is one of
 *   pending:<hash>:<unix seconds>   a produce is (or was) under way for <hash>
 *   <done>:<hash>                   the record is acknowledged by Kafka
 * where <hash> is the ballot hash (cred: keys) or the blinded-message hash
 * (voter: keys) and <done> is `cast` or `issued`.
 */

/**
 * begin(key; hash, nowSec, staleSec, done) → status
 *   'new'      no key: set pending, caller produces
 *   'retry'    pending for the same hash and older than staleSec: refreshed, caller re-produces
 *   'busy'     pending for the same hash, younger: another request is producing it
 *   'done'     already acknowledged for the same hash: an identical retry
 *   'conflict' the key holds another hash: a different ballot / blinded message
 * The pending value is returned too (the caller needs it for abort).
 */
export const BEGIN = `
local v = redis.call('GET', KEYS[1])
local pending = 'pending:' .. ARGV[1] .. ':' .. ARGV[2]
if not v then
  redis.call('SET', KEYS[1], pending)
  return {'new', pending}
end
if v == ARGV[4] .. ':' .. ARGV[1] then return {'done', v} end
local prefix = 'pending:' .. ARGV[1] .. ':'
if string.sub(v, 1, #prefix) == prefix then
  local since = tonumber(string.sub(v, #prefix + 1))
  if since == nil or tonumber(ARGV[2]) - since >= tonumber(ARGV[3]) then
    redis.call('SET', KEYS[1], pending)
    return {'retry', pending}
  end
  return {'busy', v}
end
return {'conflict', ''}
`;

/**
 * commit(key; doneValue, pendingPrefix) → 1 when the key now holds doneValue.
 * Marks the record acknowledged, whether the pending value is this request's
 * or a concurrent re-produce's (both carry the same hash, so the same record).
 */
export const COMMIT = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return 1 end
if v and string.sub(v, 1, #ARGV[2]) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
`;

/**
 * abort(key; pending) → 1 when deleted. Compare-and-delete: the key is
 * removed only if it still holds exactly this request's pending value, so a
 * failed produce never frees a credential someone else has since used.
 */
export const ABORT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
