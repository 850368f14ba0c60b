/**
 * The election as the commission runs it, in this worker: the state its
 * `ElectionEventsFollower` keeps (pause, close, extension, candidates'
 * statuses) turned into what the routes need on the hot path:
 *
 *   assertVoting(now)   online issuance and casting: open, or the refusal
 *                       (election_not_open | election_paused | election_closed)
 *   candidates          statuses that differ from the config (ballot-rules.ts)
 *   statusBody(now)     `GET /v1/elections/{id}/status`
 *
 * Until the follower has read the stream up to its end once, the worker does
 * not know whether voting is paused or a candidate removed: it refuses online
 * issuance and casting with `unavailable` (retried by clients) and is not ready.
 * Paper check-ins keep their stations' windows and are not affected.
 */
import type { Logger } from 'pino';
import { loggableError } from '../common/log.js';
import type { ElectionEventRecord } from '../common/records.js';
import {
  type ElectionEventsFollower,
  type ElectionIndex,
  type ElectionState,
  type Phase,
  phaseAt,
} from '../election/index.js';
import { type CandidateChanges, candidateChanges, NO_CANDIDATE_CHANGES } from './ballot-rules.js';
import { IngestError } from './errors.js';
import type { IngestMetrics } from './metrics.js';

/** What the status endpoint and the voter page say about a candidate who is not standing. */
type NotStanding = 'withdrawn' | 'removed';

const CATCHING_UP = 'Reading the election commission’s decisions; retry shortly.';
/** Kafka away at start: the follower keeps reading; a start that fails outright is tried again. */
const CATCH_UP_TIMEOUT_MS = 3_600_000;
const MAX_RETRY_MS = 5_000;

export class ElectionLive {
  private current: ElectionState | null = null;
  private caught = false;
  private changes: CandidateChanges = NO_CANDIDATE_CHANGES;
  private paused: IngestError | null = null;
  /** The status body without `phase` (which also moves with the clock), serialised per state. */
  private statusParts: string | null = null;
  private statusCache: { phase: Phase; body: Buffer } | null = null;

  constructor(
    private readonly election: ElectionIndex,
    private readonly log: Logger,
    private readonly metrics: IngestMetrics,
  ) {}

  /** True once the follower has read the stream to its end once. */
  get caughtUp(): boolean {
    return this.caught;
  }

  /**
   * Takes the follower's changes from now on, and starts it in the
   * background: the worker listens meanwhile, refusing online voting with
   * `unavailable` and not ready, until the stream was read to its end.
   */
  follow(follower: ElectionEventsFollower): void {
    follower.on('change', (state, event) => this.update(state, event));
    follower.on('skip', () => this.metrics.electionEvents.inc({ result: 'skipped' }));
    void (async () => {
      for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, MAX_RETRY_MS)) {
        try {
          await follower.start(CATCH_UP_TIMEOUT_MS);
          this.update(follower.state(), null);
          this.caught = true;
          this.log.info({ head: follower.state().head }, 'election events caught up');
          return;
        } catch (err) {
          this.log.warn(
            { err: loggableError(err), code: 'SAYLAU_ERR_ELECTION_EVENTS', retryInMs: delayMs },
            'election events not readable yet',
          );
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
  }

  /** Candidates whose status now differs from the config's (empty almost always). */
  get candidates(): CandidateChanges {
    return this.changes;
  }

  /** The follower's state after catching up, and after every applied event. */
  update(state: ElectionState, event: ElectionEventRecord | null): void {
    if (event !== null) {
      this.metrics.electionEvents.inc({ result: 'applied' });
      this.log.info(
        { event: event.id, type: event.type, by: event.by, race: event.race, candidate: event.candidate },
        'election event applied',
      );
    }
    this.current = state;
    this.changes = candidateChanges(this.election, state.candidates);
    this.paused =
      state.pause === null
        ? null
        : new IngestError('election_paused', pausedMessage(state.pause.reason, state.pause.until), {
            retryAfterSec: 30,
          });
    this.statusParts = null;
    this.statusCache = null;
  }

  phase(now: number): Phase | null {
    return this.current === null || !this.caught ? null : phaseAt(this.current, now);
  }

  /** @throws IngestError unless online voting is open at `now` */
  assertVoting(now: number): void {
    const state = this.current;
    if (state === null || !this.caught) throw new IngestError('unavailable', CATCHING_UP);
    const phase = phaseAt(state, now);
    if (phase === 'open') return;
    if (phase === 'paused' && this.paused !== null) throw this.paused;
    throw new IngestError(phase === 'scheduled' ? 'election_not_open' : 'election_closed');
  }

  /** `{phase, opens, closes, pause, candidates, head}`; null until caught up. */
  statusBody(now: number): Buffer | null {
    const state = this.current;
    if (state === null || !this.caught) return null;
    const phase = phaseAt(state, now);
    if (this.statusCache?.phase === phase) return this.statusCache.body;
    this.statusParts ??= statusParts(state);
    const body = Buffer.from(`{"phase":${JSON.stringify(phase)},${this.statusParts}}`);
    this.statusCache = { phase, body };
    return body;
  }
}

/** The message a paused refusal carries: the commission's reason, and until when if it said. */
export function pausedMessage(reason: string, until: string | null): string {
  const resume = until === null ? 'No resumption time was given.' : `Voting should resume at ${until}.`;
  return `Voting is paused by the election commission: ${reason} ${resume}`;
}

function statusParts(state: ElectionState): string {
  const candidates: Record<string, Record<string, NotStanding>> = {};
  for (const [key, status] of state.candidates) {
    if (status === 'active') continue;
    const [race, candidate] = key.split('\0') as [string, string];
    candidates[race] = { ...candidates[race], [candidate]: status };
  }
  const body = JSON.stringify({
    opens: new Date(state.opensAt).toISOString(),
    closes: new Date(state.closesAt).toISOString(),
    pause: state.pause === null ? null : { reason: state.pause.reason, until: state.pause.until },
    candidates,
    head: state.head,
  });
  return body.slice(1, -1);
}
