/**
 * Messages between the runner and its worker processes (IPC, JSON).
 *
 *   runner ──init──► worker ──ready──► runner
 *   runner ──phase──► worker ──tick (1/s)…──► runner ──► phase-end
 *   runner ──stop──► worker ──bye──► exit
 *
 * Histograms travel as HdrHistogram compressed base64 (`histogram.ts`).
 */

/** Where an HTTP worker's requests come from. */
export type RequestSource =
  | {
      readonly type: 'cast';
      /** Election config path (the run's copy). */
      readonly electionPath: string;
      /** Pre-signed credentials file (`credentials.ts`) and this worker's slice of it. */
      readonly credentialFile: string;
      readonly first: number;
      readonly count: number;
    }
  | {
      readonly type: 'issue';
      readonly electionPath: string;
      /** STACK_DIR of the run: the election's keys live under it. */
      readonly stackDir: string;
      /** Members `[first, first + count)` of the sample roll. */
      readonly first: number;
      readonly count: number;
    }
  | {
      /** Paper check-ins (`POST /v1/paper/check-ins`) by polling-station officials, stations interleaved. */
      readonly type: 'check-in';
      readonly electionPath: string;
      readonly stackDir: string;
      readonly stations: readonly CheckInStation[];
    }
  | { readonly type: 'get'; readonly path: string };

/** One polling station of a check-in source: an official of it, and the members (of its district) it checks in. */
export interface CheckInStation {
  readonly precinct: string;
  readonly official: string;
  readonly memberIds: readonly string[];
}

export interface HttpWorkerInit {
  readonly kind: 'http';
  readonly id: number;
  readonly ports: readonly number[];
  /** Source addresses to bind (127.0.0.x); empty: let the kernel choose. */
  readonly localAddresses: readonly string[];
  readonly maxConnections: number;
  readonly timeoutMs: number;
  readonly source: RequestSource;
}

export interface SessionWorkerInit {
  readonly kind: 'sessions';
  readonly id: number;
  readonly ports: readonly number[];
  /**
   * Source address to bind, or null to let connect() pick. Binding costs: bind(addr, 0)
   * picks the port before the destination is known and its conflict search slows
   * down as the bind table fills (measured: ramps stall near 7,500 sockets per address).
   */
  readonly localAddress: string | null;
  readonly sessions: number;
  /** New connections per second while ramping up. */
  readonly rampPerSec: number;
}

export type WorkerInit = HttpWorkerInit | SessionWorkerInit;

export interface PhaseCommand {
  readonly type: 'phase';
  readonly name: string;
  /** Arrivals per second for this worker (open model). */
  readonly rate: number;
  readonly durationSec: number;
}

export type RunnerMessage =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | PhaseCommand
  | { readonly type: 'stop' };

/** Counts of completed requests, by outcome. */
export interface HttpCounts {
  /** Arrivals scheduled (the open model's offered load). */
  offered: number;
  /** 2xx. */
  ok: number;
  /** 201 Created (a new ballot or credential). */
  created: number;
  /** 503 with code `overloaded`. */
  overloaded: number;
  /** Any other non-2xx status. */
  otherStatus: number;
  /** Connection errors and resets. */
  errors: number;
  timeouts: number;
  /** Arrivals the source could not supply in time (generator bottleneck). */
  starved: number;
}

export const emptyCounts = (): HttpCounts => ({
  offered: 0,
  ok: 0,
  created: 0,
  overloaded: 0,
  otherStatus: 0,
  errors: 0,
  timeouts: 0,
  starved: 0,
});

export function addCounts(into: HttpCounts, from: HttpCounts): void {
  for (const k of Object.keys(into) as (keyof HttpCounts)[]) into[k] += from[k];
}

export interface HttpTick {
  readonly type: 'http-tick';
  readonly worker: number;
  readonly phase: string;
  readonly counts: HttpCounts;
  /** Latency of 2xx completions in this second (CO-corrected), encoded. */
  readonly okHistogram: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly connections: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
  /** Status codes other than 2xx seen this second, e.g. {"409": 3}. */
  readonly statuses: Record<string, number>;
  /** Receipts (ballotIds) of the casts answered 2xx since the last tick. */
  readonly receipts: readonly string[];
  /** ballotIds of the casts whose outcome is unknown (timeout, reset, 5xx other than `overloaded`). */
  readonly unknownIds: readonly string[];
}

export interface PhaseEnd {
  readonly type: 'phase-end';
  readonly worker: number;
  readonly phase: string;
  readonly counts: HttpCounts;
  readonly okHistogram: string;
  readonly overloadedHistogram: string;
  /** How late the generator sent requests it had a free connection for (timer lag). */
  readonly sendLagHistogram: string;
  readonly statuses: Record<string, number>;
  readonly sampleErrors: readonly string[];
  /** Receipts and unknown-outcome ballotIds not yet sent with a tick. */
  readonly receipts: readonly string[];
  readonly unknownIds: readonly string[];
}

export interface SessionTick {
  readonly type: 'session-tick';
  readonly worker: number;
  readonly open: number;
  readonly opened: number;
  readonly drops: number;
  readonly reconnects: number;
  readonly refused: number;
  readonly errors: number;
  readonly messages: number;
  readonly connectHistogram: string;
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly sampleErrors: readonly string[];
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly worker: number; readonly prepared: number }
  | HttpTick
  | PhaseEnd
  | SessionTick
  | { readonly type: 'bye'; readonly worker: number }
  | { readonly type: 'failed'; readonly worker: number; readonly message: string };
