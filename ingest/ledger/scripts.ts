/**
 * Lua scripts for the ledger's Redis index (DESIGN §3, §4). Each runs
 * atomically on the node that owns the key's slot (`{<region>}`), so
 * concurrent requests for one credential or one voter are serialised.
 *
 * A dedup key holds one of
 *   pending:<hash>:<attempt>   a request is producing this record now (TTL: INGEST_PENDING_TTL_MS)
 *   pending!:<hash>:<attempt>  the same, after an earlier produce of it got no answer
 *   held:<hash>                a produce of it went out and got no answer: only this
 *                              record may be retried (TTL kept); a different one is refused
 *   <done>:<hash>    the follower saw this record first in the log (no TTL)
 * Values carry no time; a stuck `pending` is told by its remaining TTL.
 *
 * Only the follower writes `<done>:`, in log order (APPLY), so the index says
 * what the log says: the first record for a key wins — for ballots, the
 * highest revision wins, first in the log among equals (re-voting). A
 * ballot's hash carries its revision (`<ballotHash>.<rev>`, none for rev 0:
 * entries.ts), and a revision above the recorded one is claimed apart, on
 * `<key>#<rev>` (the claim key), so the key keeps its done mark meanwhile.
 */

/** The revision a ballot's dedup hash or done value carries: its `.<rev>` suffix, else 0. */
const REV_OF = `
local function revOf(v)
  local r = string.match(v, '%.(%d+)$')
  if r then return tonumber(r) end
  return 0
end
`;

/**
 * BEGIN(key, marker, claim; hash, done, ttlMs, busyMs, attempt, rev) → status
 *   'rebuilding' the region's index is incomplete (Redis lost data): write nothing
 *   'new'        no key: now pending:<hash>:<attempt>; the caller produces
 *   'retry'      held for hash, or pending for hash longer than busyMs (its producer
 *                died or gave up): now pending!:<hash>:<attempt>; the caller
 *                re-produces the same record
 *   'busy'       pending for hash, younger than busyMs: someone is producing it now
 *   'done'       the log already holds this very record first
 *   'conflict'   the log holds a different record first for the key
 *   'claimed'    a different record is pending or held: it may or may not reach the
 *                log, so this one can be neither taken nor refused for good yet
 * `pending!` remembers that an earlier produce of this record may be in the
 * log, so that this attempt failing before it left cannot free the key.
 * `attempt` is a random id: only the attempt that set a pending value settles it.
 *
 * A ballot revision above 0 (`rev`; `claim` = key#rev) first asks the key:
 * its done mark for this very record → 'done'; for the same or a higher
 * revision → 'conflict'; a first ballot still pending or held → 'claimed'.
 * A lower recorded revision (or none) leaves the key alone: the claim key
 * then goes through the steps above, so two different records of one
 * revision cannot both be written, and the key's done mark stays until the
 * follower finds the new revision in the log.
 */
export const BEGIN = `${REV_OF}
if redis.call('EXISTS', KEYS[2]) == 0 then return 'rebuilding' end
local done = ARGV[2] .. ':'
local claim = KEYS[1]
local v = redis.call('GET', claim)
if tonumber(ARGV[6]) > 0 then
  if v then
    if v == done .. ARGV[1] then return 'done' end
    if string.sub(v, 1, #done) ~= done then return 'claimed' end
    if revOf(v) >= tonumber(ARGV[6]) then return 'conflict' end
  end
  claim = KEYS[3]
  v = redis.call('GET', claim)
end
if not v then
  redis.call('SET', claim, 'pending:' .. ARGV[1] .. ':' .. ARGV[5], 'PX', ARGV[3])
  return 'new'
end
if v == done .. ARGV[1] then return 'done' end
local retry = 'pending!:' .. ARGV[1] .. ':' .. ARGV[5]
if v == 'held:' .. ARGV[1] then
  redis.call('SET', claim, retry, 'PX', ARGV[3])
  return 'retry'
end
local plain = 'pending:' .. ARGV[1] .. ':'
local again = 'pending!:' .. ARGV[1] .. ':'
if string.sub(v, 1, #plain) == plain or string.sub(v, 1, #again) == again then
  local left = redis.call('PTTL', claim)
  if left < 0 or tonumber(ARGV[3]) - left >= tonumber(ARGV[4]) then
    redis.call('SET', claim, retry, 'PX', ARGV[3])
    return 'retry'
  end
  return 'busy'
end
if string.sub(v, 1, #done) == done then return 'conflict' end
return 'claimed'
`;

/**
 * SETTLE(claim; hash, outcome, attempt) → 1 when the key changed (the key BEGIN claimed). After a
 * produce that did not reach the log (as far as this attempt knows):
 *   'unsent'   this attempt provably never left the process: free the key, unless
 *              an earlier produce of the record may be in the log (pending!): held
 *   'unknown'  it may have been written: keep the key for this record only (held)
 * Only the key's own attempt changes it; anything else (the follower's done
 * mark, another attempt or record) is left alone.
 */
export const SETTLE = `
local v = redis.call('GET', KEYS[1])
if v == 'pending:' .. ARGV[1] .. ':' .. ARGV[3] then
  if ARGV[2] == 'unsent' then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], 'held:' .. ARGV[1], 'KEEPTTL')
  end
  return 1
end
if v == 'pending!:' .. ARGV[1] .. ':' .. ARGV[3] then
  redis.call('SET', KEYS[1], 'held:' .. ARGV[1], 'KEEPTTL')
  return 1
end
return 0
`;

/**
 * APPLY(key, marker, rebuilds; hash, done, rebuildId) → verdict, run by the
 * follower for every record in log order:
 *   'first'     no record for the key before this one, or (a ballot) only lower
 *               revisions: the key is now <done>:<hash>, this record counts
 *   'same'      an identical record came first (a retry or a redelivery): harmless
 *   'conflict'  a different record of the same or a higher revision came first:
 *               this one never counts
 * When the region's marker is missing, the record is applied only by a
 * rebuild still listed in `rebuilds` (it rewound to the election's first
 * record, so it applies in log order), and the verdict is prefixed
 * 'rebuilding:': not to be trusted yet (earlier records may not be applied).
 * Otherwise nothing is written ('skipped'): a reader that has not rewound yet
 * must not leave marks from the middle of the log for the replay to find.
 */
export const APPLY = `${REV_OF}
local complete = redis.call('EXISTS', KEYS[2]) == 1
if not complete and (ARGV[3] == '' or redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 0) then
  return 'skipped'
end
local v = redis.call('GET', KEYS[1])
local done = ARGV[2] .. ':' .. ARGV[1]
local verdict
if v == done then
  verdict = 'same'
elseif v and string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. ':'
    and (ARGV[2] ~= 'cast' or revOf(v) >= revOf(ARGV[1])) then
  verdict = 'conflict'
else
  redis.call('SET', KEYS[1], done)
  verdict = 'first'
end
if complete then return verdict end
return 'rebuilding:' .. verdict
`;

/**
 * REBUILD_BEGIN(marker, rebuilds; id) → 'started' (id listed: its APPLYs may
 * write), or 'complete' when the marker is back (another host rebuilt it).
 */
export const REBUILD_BEGIN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'complete' end
redis.call('SADD', KEYS[2], ARGV[1])
return 'started'
`;

/**
 * REBUILD_FINISH(marker, rebuilds; id, check) → 'complete' | 'running' | 'lost'.
 * With check = '1' only says how the rebuild stands; otherwise, the replay
 * having reached its targets, sets the marker — only if the id is still
 * listed: if Redis lost data since the rebuild began ('lost'), the index
 * misses records the replay already passed, and the rebuild must start over.
 */
export const REBUILD_FINISH = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'complete' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'lost' end
if ARGV[2] == '1' then return 'running' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 'complete'
`;
