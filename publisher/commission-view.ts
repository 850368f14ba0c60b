/**
 * What the observers' feed says the commission has done, from the
 * election's state as the publisher's `ElectionEventsFollower` has folded it
 * (election/election-state.ts): the phase now, the pause and its reason, the
 * closing time in force, and the last 50 applied actions with who took them
 * and why. Before any event, the config's times (`initialState`).
 */
import { type ElectionState, phaseAt } from '../election/index.js';
import type { CommissionView, FeedAction } from './observer-feed.js';

/** Actions the feed carries: the newest 50, oldest first. */
export const FEED_ACTIONS = 50;

export function commissionView(state: ElectionState, now: number): CommissionView {
  return {
    phase: phaseAt(state, now),
    pause: state.pause === null ? null : { reason: state.pause.reason, until: state.pause.until },
    closes: isoSeconds(state.closedAt ?? state.closesAt),
    actions: state.events.slice(-FEED_ACTIONS).map(
      (e): FeedAction => ({
        id: e.id,
        type: e.type,
        at: e.at,
        by: e.by,
        detail: e.detail,
        race: e.race ?? null,
        candidate: e.candidate ?? null,
        reference: e.reference ?? null,
        until: e.until ?? null,
      }),
    ),
  };
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
