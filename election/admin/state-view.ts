/**
 * `GET /v1/admin/state`: what the commission's staff see of the election's
 * state — phase, times, pause, the candidates not standing, and the last 50
 * events as written (who, why, signature). Nothing about voters.
 */
import type { ElectionEventRecord } from '../../common/records.js';
import type { ElectionEventsFollower } from '../election-events.js';
import { type ElectionPause, type Phase, phaseAt } from '../election-state.js';
import type { ElectionIndex } from '../load.js';

/** How many of the latest events the state carries. */
export const STATE_EVENTS = 50;

export interface StateView {
  readonly election: string;
  readonly phase: Phase;
  /** The service's clock, ISO: the phase is as of then. */
  readonly now: string;
  readonly opens: string;
  readonly closes: string;
  readonly closedAt: string | null;
  readonly pause: ElectionPause | null;
  /** Candidates whose status is not `active`. */
  readonly candidates: readonly {
    readonly race: string;
    readonly candidate: string;
    readonly status: string;
  }[];
  readonly head: string | null;
  /** Events applied so far (the list below is the last {@link STATE_EVENTS}). */
  readonly applied: number;
  /** Events in the log that every reader skips (bad signature, refused transition). */
  readonly skipped: number;
  readonly events: readonly (ElectionEventRecord & { readonly offset: number | null })[];
}

export function stateView(index: ElectionIndex, follower: ElectionEventsFollower, now: number): StateView {
  const state = follower.state();
  const candidates = [...state.candidates]
    .filter(([, status]) => status !== 'active')
    .map(([key, status]) => {
      const [race = '', candidate = ''] = key.split('\0');
      return { race, candidate, status };
    });
  return {
    election: index.id,
    phase: phaseAt(state, now),
    now: new Date(now).toISOString(),
    opens: new Date(state.opensAt).toISOString(),
    closes: new Date(state.closesAt).toISOString(),
    closedAt: state.closedAt === null ? null : new Date(state.closedAt).toISOString(),
    pause: state.pause,
    candidates,
    head: state.head,
    applied: state.events.length,
    skipped: follower.skipped,
    events: state.events.slice(-STATE_EVENTS).map((e) => ({ ...e, offset: follower.offsetOf(e.id) ?? null })),
  };
}
