/**
 * The ledger's Redis index: dedup keys, the per-region completeness markers
 * and the follower's positions (DESIGN §3–4). Redis holds nothing that cannot
 * be rebuilt from Kafka and the roll's own record; every call goes through
 * ioredis auto-pipelining, so concurrent requests share round trips.
 *
 *   voter:{<region>}:<election>:<voterHash>  → pending[!]:|held:|issued: <blindedHash> (scripts.ts)
 *   cred:{<region>}:<election>:<ballotId>    → pending[!]:|held:|cast: <ballotHash>[.<rev>]
 *   cred:{<region>}:<election>:<ballotId>#<rev> → pending[!]:|held: <ballotHash>.<rev> (a revision
 *                                              being written, re-voting; expires with its TTL)
 *   ledger:{<region>}:<election>             → rebuild id (present = region complete)
 *   ledger-rebuild:{<region>}:<election>     → SET of the ids of rebuilds under way
 *   ledger-log:{<election>}                  → HASH topic/partition → next offset applied
 */
import type { Redis } from 'ioredis';
import type { DoneMark, IndexedRecord } from './entries.js';
import { claimKeyOf, indexMarkerKey, positionsKey, rebuildsKey } from './entries.js';
import { APPLY, BEGIN, REBUILD_BEGIN, REBUILD_FINISH, SETTLE } from './scripts.js';

export type BeginStatus = 'rebuilding' | 'new' | 'retry' | 'busy' | 'done' | 'conflict' | 'claimed';
export type ApplyVerdict = 'first' | 'same' | 'conflict';
/** An APPLY verdict, or null when the region's index was incomplete at the time (applied or not). */
export type IndexedVerdict = ApplyVerdict | null;
/** How a rebuild stands in Redis: done (by it or another host), under way, or overtaken by a new loss. */
export type RebuildState = 'complete' | 'running' | 'lost';
export type SettleOutcome = 'unsent' | 'unknown';

/** Latency samples per operation (the worker's and the host's metrics both fit). */
export type RedisTimer = (op: string, startedAt: number) => void;

interface LedgerCommands {
  saylauBegin(
    key: string,
    marker: string,
    claim: string,
    hash: string,
    done: string,
    ttl: string,
    busy: string,
    attempt: string,
    rev: string,
  ): Promise<string>;
  saylauSettle(key: string, hash: string, outcome: string, attempt: string): Promise<number>;
  saylauApply(
    key: string,
    marker: string,
    rebuilds: string,
    hash: string,
    done: string,
    rebuildId: string,
  ): Promise<string>;
  saylauRebuildBegin(marker: string, rebuilds: string, id: string): Promise<string>;
  saylauRebuildFinish(marker: string, rebuilds: string, id: string, check: string): Promise<string>;
}

export interface IndexStoreOptions {
  readonly election: string;
  /** A pending or held key expires after this long. */
  readonly pendingTtlMs: number;
  /** A pending key younger than this is someone's produce in flight. */
  readonly busyMs: number;
  readonly timer: RedisTimer;
}

export class IndexStore {
  readonly #redis: Redis & LedgerCommands;
  readonly #election: string;
  readonly #ttl: string;
  readonly #busy: string;
  readonly #timer: RedisTimer;
  readonly #markers = new Map<string, string>();
  readonly #rebuilds = new Map<string, string>();

  constructor(redis: Redis, options: IndexStoreOptions) {
    redis.defineCommand('saylauBegin', { numberOfKeys: 3, lua: BEGIN });
    redis.defineCommand('saylauSettle', { numberOfKeys: 1, lua: SETTLE });
    redis.defineCommand('saylauApply', { numberOfKeys: 3, lua: APPLY });
    redis.defineCommand('saylauRebuildBegin', { numberOfKeys: 2, lua: REBUILD_BEGIN });
    redis.defineCommand('saylauRebuildFinish', { numberOfKeys: 2, lua: REBUILD_FINISH });
    this.#redis = redis as Redis & LedgerCommands;
    this.#election = options.election;
    this.#ttl = String(options.pendingTtlMs);
    this.#busy = String(options.busyMs);
    this.#timer = options.timer;
  }

  get redis(): Redis {
    return this.#redis;
  }

  markerOf(region: string): string {
    let marker = this.#markers.get(region);
    if (marker === undefined) {
      marker = indexMarkerKey(region, this.#election);
      this.#markers.set(region, marker);
    }
    return marker;
  }

  #rebuildsOf(region: string): string {
    let key = this.#rebuilds.get(region);
    if (key === undefined) {
      key = rebuildsKey(region, this.#election);
      this.#rebuilds.set(region, key);
    }
    return key;
  }

  /**
   * Claims `key` for `hash` before producing (BEGIN); `attempt` is a random id for SETTLE.
   * A ballot revision `rev` above 0 claims `claimKeyOf` instead, which SETTLE is then given.
   */
  async begin(
    region: string,
    key: string,
    hash: string,
    done: DoneMark,
    attempt: string,
    rev = 0,
  ): Promise<BeginStatus> {
    const started = performance.now();
    const status = await this.#redis.saylauBegin(
      key,
      this.markerOf(region),
      claimKeyOf({ key, rev }),
      hash,
      done,
      this.#ttl,
      this.#busy,
      attempt,
      String(rev),
    );
    this.#timer('begin', started);
    return status as BeginStatus;
  }

  /** After a produce that did not reach the log: free the claimed key or hold it for this record (SETTLE). */
  async settle(key: string, hash: string, outcome: SettleOutcome, attempt: string): Promise<boolean> {
    const started = performance.now();
    const changed = await this.#redis.saylauSettle(key, hash, outcome, attempt);
    this.#timer('settle', started);
    return changed === 1;
  }

  /**
   * Applies records in the given (log) order; one auto-pipelined round trip
   * for the lot. In a region without its marker a record is applied only for
   * the rebuild `rebuildOf(region)` names (APPLY), and its verdict is null.
   */
  async apply(
    records: readonly IndexedRecord[],
    rebuildOf: (region: string) => string,
  ): Promise<IndexedVerdict[]> {
    const started = performance.now();
    const replies = await Promise.all(
      records.map((r) =>
        this.#redis.saylauApply(
          r.key,
          this.markerOf(r.region),
          this.#rebuildsOf(r.region),
          r.hash,
          r.done,
          rebuildOf(r.region),
        ),
      ),
    );
    this.#timer('apply', started);
    return replies.map((reply) =>
      reply === 'skipped' || reply.startsWith('rebuilding:') ? null : (reply as ApplyVerdict),
    );
  }

  /** The regions among `regions` whose index marker is missing. */
  async incomplete(regions: readonly string[]): Promise<string[]> {
    const present = await Promise.all(regions.map((r) => this.#redis.exists(this.markerOf(r))));
    return regions.filter((_, i) => present[i] === 0);
  }

  /** Lists rebuild `id` for `region` (its APPLYs may write); false when the marker is back already. */
  async beginRebuild(region: string, id: string): Promise<boolean> {
    return (
      (await this.#redis.saylauRebuildBegin(this.markerOf(region), this.#rebuildsOf(region), id)) ===
      'started'
    );
  }

  /** How rebuild `id` of `region` stands, without changing it. */
  async rebuildState(region: string, id: string): Promise<RebuildState> {
    const state = await this.#redis.saylauRebuildFinish(
      this.markerOf(region),
      this.#rebuildsOf(region),
      id,
      '1',
    );
    return state as RebuildState;
  }

  /** Declares the region complete if rebuild `id` lost nothing since it began ('lost': start over). */
  async finishRebuild(region: string, id: string): Promise<RebuildState> {
    const state = await this.#redis.saylauRebuildFinish(
      this.markerOf(region),
      this.#rebuildsOf(region),
      id,
      '0',
    );
    return state as RebuildState;
  }

  /** The follower's stored positions (`topic/partition` → next offset to apply). */
  async positions(): Promise<Map<string, number>> {
    const stored = await this.#redis.hgetall(positionsKey(this.#election));
    return new Map(Object.entries(stored).map(([k, v]) => [k, Number(v)]));
  }

  async storePositions(positions: ReadonlyMap<string, number>): Promise<void> {
    if (positions.size === 0) return;
    await this.#redis.hset(positionsKey(this.#election), Object.fromEntries(positions));
  }

  /** The district the roll lists a voter in, or null. */
  async rollDistrict(rollKey: string, voterHash: string): Promise<string | null> {
    const started = performance.now();
    const district = await this.#redis.hget(rollKey, voterHash);
    this.#timer('roll', started);
    return district;
  }

  /** Current values of several keys (one auto-pipelined round trip; keys may span slots). */
  async values(keys: readonly string[]): Promise<(string | null)[]> {
    const started = performance.now();
    const values = await Promise.all(keys.map((key) => this.#redis.get(key)));
    this.#timer('get', started);
    return values;
  }

  async ping(): Promise<boolean> {
    return (await this.#redis.ping()) === 'PONG';
  }
}
