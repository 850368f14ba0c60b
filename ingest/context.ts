/**
 * Everything a route needs, built once per process by `server.ts` and passed
 * down typed. Routes import types from here, never the wiring.
 */
import type { Logger } from 'pino';
import type { Config } from '../common/config.js';
import type { ElectionIndex, IngestKeys, StaffTokenVerifier, TokenVerifier } from '../election/index.js';
import type { Admission } from './admission.js';
import type { DistrictPlan } from './ballot-rules.js';
import type { CryptoPool } from './crypto/pool.js';
import type { ElectionLive } from './election-live.js';
import type { IndexStore } from './ledger/index-store.js';
import type { Ledger } from './ledger/ledger.js';
import type { LedgerSink } from './ledger/ledger-host.js';
import type { RateLimiter } from './limits/rate-limiter.js';
import type { SignatureCache } from './limits/signature-cache.js';
import type { IngestMetrics } from './metrics.js';
import type { CountedCodes } from './receipts/counted-codes.js';

/** Process lifecycle flags read by `/readyz` and the session channel. */
export class Lifecycle {
  keysLoaded = false;
  draining = false;
}

export interface IngestContext {
  readonly config: Config;
  readonly log: Logger;
  readonly election: ElectionIndex;
  readonly keys: IngestKeys;
  readonly districts: ReadonlyMap<string, DistrictPlan>;
  /** Each district's RSA modulus, big-endian, for the cheap `blinded < n` check. */
  readonly moduli: ReadonlyMap<string, Buffer>;
  readonly verifyToken: TokenVerifier;
  /** Officials' and observers' tokens (the paper channel). */
  readonly verifyStaffToken: StaffTokenVerifier;
  /** The ledger's Redis index (roll lookups, receipts, readiness). */
  readonly index: IndexStore;
  /** Where ledger writes go: the supervisor's host (relayed) or this process's own. */
  readonly sink: LedgerSink;
  /** Records issuance and ballots exactly once. */
  readonly ledger: Ledger;
  readonly crypto: CryptoPool;
  /** Issuance limits per token and per address, host-wide. */
  readonly limiter: RateLimiter;
  /** Signatures kept for identical issuance retries. */
  readonly signatures: SignatureCache;
  readonly admission: Admission;
  readonly metrics: IngestMetrics;
  readonly counted: CountedCodes;
  readonly lifecycle: Lifecycle;
  /** The commission's live decisions (pause, close, candidates), from this worker's event follower. */
  readonly live: ElectionLive;
}
