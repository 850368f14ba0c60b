/**
 * Issuance limits per identity token and per source address (DESIGN §7),
 * held in Redis so they hold across every ingest process of a host (they
 * share the port, and the kernel spreads one client's connections over them).
 *
 * GCRA (the "leaky bucket as a meter"): a key holds the theoretical arrival
 * time of the next request; a limit allows `burst` requests at once, then
 * one every 60/`perMinute` seconds. A refusal says how long until the next
 * request would pass (→ `429 rate_limited` with that `Retry-After`).
 *
 * Redis is a rebuildable index: when it loses the keys (restart, FLUSHALL)
 * every client simply gets a fresh allowance — the limits cannot lock anyone
 * out and need no rebuild. Keys are HMACs under the host secret
 * (host-secret.ts), so Redis names neither voters nor addresses; each host
 * has its own secret, so the limits are per host.
 */
import type { Redis } from 'ioredis';
import type { RateLimit } from '../../common/config.js';
import type { HostSecret } from './host-secret.js';

/**
 * KEYS[1] the limit's key; ARGV: now (ms), interval (ms per request), burst.
 * Returns 0 when allowed, else the ms until a request would be allowed.
 */
const GCRA = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = interval * (tonumber(ARGV[3]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now > tolerance then return math.ceil(tat - tolerance - now) end
local next = tat + interval
redis.call('SET', KEYS[1], next, 'PX', math.ceil(next - now))
return 0
`;

interface LimiterCommands {
  saylauGcra(key: string, now: number, intervalMs: number, burst: number): Promise<number>;
}

/** A voter's token, a source address (issuance), an official (paper check-ins), a report's filer. */
export type LimitKind = 'token' | 'address' | 'official' | 'observer' | 'report';

export class RateLimiter {
  readonly #redis: Redis & LimiterCommands;

  constructor(
    redis: Redis,
    private readonly secret: HostSecret,
    private readonly election: string,
  ) {
    redis.defineCommand('saylauGcra', { numberOfKeys: 1, lua: GCRA });
    this.#redis = redis as Redis & LimiterCommands;
  }

  /** Takes one request from `id`'s allowance: 0 when allowed, else ms until one would be. */
  take(kind: LimitKind, id: string, limit: RateLimit, now = Date.now()): Promise<number> {
    const key = `limit:${kind}:${this.secret.name('limit', kind, this.election, id)}`;
    return this.#redis.saylauGcra(key, now, 60_000 / limit.perMinute, limit.burst);
  }
}
