/**
 * The Redis dedup keys (DESIGN §3): one voter, one credential; one
 * credential, one ballot. Keys are hash-tagged by region (`{KZ-75}`) so a
 * Redis Cluster keeps each region's keys on one node; every call goes
 * through ioredis auto-pipelining, so concurrent requests share round trips.
 *
 *   voter:{<region>}:<election>:<voterHash>  → pending:<blindedHash>:<s> | issued:<blindedHash>
 *   cred:{<region>}:<election>:<ballotId>    → pending:<ballotHash>:<s>  | cast:<ballotHash>
 */
import type { Redis } from 'ioredis';
import type { IngestMetrics } from '../metrics.js';
import { ABORT, BEGIN, COMMIT } from './scripts.js';

export type BeginStatus = 'new' | 'retry' | 'busy' | 'done' | 'conflict';
export type DoneMark = 'cast' | 'issued';

export interface Begun {
  readonly status: BeginStatus;
  /** This request's pending value (for `new`/`retry`), the current one for `busy`. */
  readonly pending: string;
}

interface DedupCommands {
  saylauBegin(
    key: string,
    hash: string,
    nowSec: string,
    staleSec: string,
    done: string,
  ): Promise<[string, string]>;
  saylauCommit(key: string, doneValue: string, pendingPrefix: string): Promise<number>;
  saylauAbort(key: string, pending: string): Promise<number>;
}

export function voterKey(region: string, election: string, voterHash: string): string {
  return `voter:{${region}}:${election}:${voterHash}`;
}

export function credKey(region: string, election: string, ballotId: string): string {
  return `cred:{${region}}:${election}:${ballotId}`;
}

export class DedupStore {
  private readonly redis: Redis & DedupCommands;

  /**
   * @param staleSec a pending key at least this old may be re-produced by an
   *   identical retry (the produce timeout, rounded up to whole seconds).
   */
  constructor(
    redis: Redis,
    private readonly metrics: IngestMetrics,
    private readonly staleSec: number,
  ) {
    redis.defineCommand('saylauBegin', { numberOfKeys: 1, lua: BEGIN });
    redis.defineCommand('saylauCommit', { numberOfKeys: 1, lua: COMMIT });
    redis.defineCommand('saylauAbort', { numberOfKeys: 1, lua: ABORT });
    this.redis = redis as Redis & DedupCommands;
  }

  async begin(key: string, hash: string, done: DoneMark): Promise<Begun> {
    const started = performance.now();
    const nowSec = String(Math.floor(Date.now() / 1000));
    const [status, pending] = await this.redis.saylauBegin(key, hash, nowSec, String(this.staleSec), done);
    this.metrics.redis('begin', started);
    return { status: status as BeginStatus, pending };
  }

  /** Marks the record acknowledged. Returns false if the key was lost meanwhile (Redis data loss). */
  async commit(key: string, hash: string, done: DoneMark): Promise<boolean> {
    const started = performance.now();
    const ok = await this.redis.saylauCommit(key, `${done}:${hash}`, `pending:${hash}:`);
    this.metrics.redis('commit', started);
    return ok === 1;
  }

  /** Compare-and-delete after a failed produce. */
  async abort(key: string, pending: string): Promise<boolean> {
    const started = performance.now();
    const deleted = await this.redis.saylauAbort(key, pending);
    this.metrics.redis('abort', started);
    return deleted === 1;
  }

  /** The district the roll lists a voter in, or null. */
  async rollDistrict(rollKey: string, voterHash: string): Promise<string | null> {
    const started = performance.now();
    const district = await this.redis.hget(rollKey, voterHash);
    this.metrics.redis('roll', started);
    return district;
  }

  /** Current values of several keys (one auto-pipelined round trip; keys may span slots). */
  async values(keys: readonly string[]): Promise<(string | null)[]> {
    const started = performance.now();
    const values = await Promise.all(keys.map((key) => this.redis.get(key)));
    this.metrics.redis('get', started);
    return values;
  }

  async ping(): Promise<boolean> {
    return (await this.redis.ping()) === 'PONG';
  }
}
