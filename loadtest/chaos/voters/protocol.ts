/**
 * Messages between the harness and its voter processes (IPC, JSON).
 *
 *   harness ──init──► worker ──ready──► harness ──start{t0}──► worker
 *   worker ──tick (1/s)…──► harness;  worker ──done{summary}──► harness
 */
import type { Outcome } from './api.js';

export type RequestKind = 'login' | 'issue' | 'cast';
export const REQUEST_KINDS: readonly RequestKind[] = ['login', 'issue', 'cast'];

/** What voters do besides voting once (each a share, decided per voter from the seed). */
export interface Behaviour {
  /** Of voters who must retry a cast, the share who change their choices on the retry (2020's voters did). */
  readonly changeShare: number;
  /** Voters who, after their receipt, try to cast a different ballot with the same credential. */
  readonly recastShare: number;
  /** Issuance voters who later sign in on a second device and ask for another credential. */
  readonly secondShare: number;
  /** Those later attempts come this long after the first ballot or credential. */
  readonly laterMinMs: number;
  readonly laterMaxMs: number;
  /**
   * Time between a voter's credential and their cast (reading and marking the ballot), a
   * log-normal draw per voter, capped; null: they cast at once (the fault harness).
   */
  readonly think: ThinkTime | null;
}

/** Log-normal think time: half of the voters take less than the median. */
export interface ThinkTime {
  readonly medianMs: number;
  /** σ of ln(think): 1 puts the 90th percentile at ≈ 3.6 × the median. */
  readonly sigma: number;
  readonly maxMs: number;
}

export interface ClientSettings {
  /** Per request; a request that takes longer has an unknown outcome. */
  readonly timeoutMs: number;
  /** Back-off cap between retries (the web client's is 30 s; a bounded run needs less). */
  readonly backoffCapMs: number;
}

export interface VoterWorkerInit {
  readonly id: number;
  readonly base: string;
  readonly electionPath: string;
  /** STACK_DIR of the run: district public keys and the pepper (for voterHash). */
  readonly stackDir: string;
  readonly seed: number;
  /** Pre-signed credentials (`loadtest/credentials.ts`) for voters who only cast; null: none. */
  readonly credentialFile: string | null;
  readonly cacheFirst: number;
  readonly cacheCount: number;
  /** Roll members `[memberFirst, memberFirst + memberCount)` vote through issuance. */
  readonly memberFirst: number;
  readonly memberCount: number;
  readonly historyFile: string;
  /**
   * Arrival time of each of the worker's voters, ms after the start, ascending (the insider
   * harness's peak and off-peak); null: evenly spaced over the window (open model).
   */
  readonly arrivalsMs: readonly number[] | null;
  readonly behaviour: Behaviour;
  readonly client: ClientSettings;
}

export type OutcomeCounts = Record<RequestKind, Record<Outcome, number>>;

export const emptyOutcomeCounts = (): OutcomeCounts => ({
  login: { ok: 0, refused: 0, unknown: 0 },
  issue: { ok: 0, refused: 0, unknown: 0 },
  cast: { ok: 0, refused: 0, unknown: 0 },
});

export interface VoterSummary {
  readonly voters: number;
  readonly cacheVoters: number;
  readonly issuanceVoters: number;
  started: number;
  finished: number;
  /** Voters whose last request was still not answered for good when the run's deadline came. */
  gaveUp: number;
  changedBallots: number;
  recasts: number;
  secondDevices: number;
  /** Later attempts (recast, second device) not made because the run was ending. */
  skippedLater: number;
  anomalies: number;
  /** Answers by kind and outcome. */
  readonly outcomes: OutcomeCounts;
  /** Answers by `<kind> <status> <code>`, e.g. `cast 503 unavailable`. */
  readonly codes: Record<string, number>;
}

export type HarnessMessage =
  | { readonly type: 'init'; readonly init: VoterWorkerInit }
  | {
      readonly type: 'start';
      /** The run's clock (epoch ms): history times and ticks count from it. */
      readonly t0: number;
      /** Arrivals are spread evenly over [t0, t0 + arrivalsMs) (open model); voters give up at t0 + deadlineMs. */
      readonly arrivalsMs: number;
      readonly deadlineMs: number;
    };

export type VoterWorkerMessage =
  | { readonly type: 'ready'; readonly worker: number; readonly voters: number }
  | {
      readonly type: 'tick';
      readonly worker: number;
      readonly counts: OutcomeCounts;
      /** Latency of ok answers this second, HdrHistogram compressed base64 ('' when none). */
      readonly castHistogram: string;
      readonly issueHistogram: string;
      readonly arrivals: number;
      readonly active: number;
      readonly cpuMs: number;
    }
  | { readonly type: 'done'; readonly worker: number; readonly summary: VoterSummary }
  | { readonly type: 'failed'; readonly worker: number; readonly message: string };
