/**
 * The election's state as the commission's events leave it: a pure fold over
 * `election-events` (partition 0, log order = order of effect). No I/O, so
 * ingest, the publisher and the admin service compute the same state from the
 * same events, and the admin service can ask "would this be allowed?" before
 * it writes an event.
 *
 *   initialState(index)  config's times and candidate statuses
 *        │ applyEvent(state, index, e)  → new state, or {refused, message}
 *        ▼
 *   ElectionState ── phaseAt(state, now) → scheduled | open | paused | closed
 *
 * Without events everything behaves as the config says. A refused event
 * changes nothing: readers skip it (it cannot be taken back from Kafka and
 * must not block anything); the admin API refuses to write one.
 *
 * The time an event takes effect is its `at`, but never earlier than the
 * event before it: the stream's order is the order of effect, and a signer's
 * clock a little behind must not let a pause slip in before a close.
 */
import {
  ELECTION_EVENT_TYPES,
  type ElectionEventRecord,
  EVENT_DETAIL_MAX,
  RECORD_VERSION,
} from '../common/records.js';
import type { CandidateStatus } from './config-schema.js';
import type { ElectionIndex } from './load.js';

export type Phase = 'scheduled' | 'open' | 'paused' | 'closed';

export interface ElectionPause {
  /** The reason voters are shown. */
  readonly reason: string;
  /** ISO time voters are told it should resume, or null. */
  readonly until: string | null;
  readonly at: number;
  readonly by: string;
}

export interface ElectionState {
  /** The config's opening time, brought forward by `opened`. Unix ms. */
  readonly opensAt: number;
  /** The config's closing time, moved by `extended`. Unix ms. */
  readonly closesAt: number;
  /** Set by `closed`: when it took effect. */
  readonly closedAt: number | null;
  readonly pause: ElectionPause | null;
  /** `race\0candidate` → status: the config's, then the candidate-* events. */
  readonly candidates: ReadonlyMap<string, CandidateStatus>;
  /** `declared` events, in order. */
  readonly declarations: readonly ElectionEventRecord[];
  /** Every applied event, in log order. */
  readonly events: readonly ElectionEventRecord[];
  /** Id of the last applied event. */
  readonly head: string | null;
}

/** Why an event changes nothing. `admin_<code>` is what the admin API answers. */
export const TRANSITION_REFUSALS = [
  'invalid_event',
  'event_repeated',
  'election_already_closed',
  'not_open',
  'already_paused',
  'not_paused',
  'not_later',
  'unknown_candidate',
  'status_unchanged',
  'not_closed',
] as const;
export type TransitionRefusalCode = (typeof TRANSITION_REFUSALS)[number];

export interface TransitionRefusal {
  readonly refused: TransitionRefusalCode;
  readonly message: string;
}

/** The id an event's signer picks: `E-` and 10 base32 characters (RFC 4648 alphabet). */
export const EVENT_ID_PATTERN = /^E-[A-Z2-7]{10}$/;

const CANDIDATE_STATUS_OF: Readonly<Record<string, CandidateStatus>> = {
  'candidate-withdrawn': 'withdrawn',
  'candidate-removed': 'removed',
  'candidate-reinstated': 'active',
};

const TYPES: ReadonlySet<string> = new Set(ELECTION_EVENT_TYPES);

/** `race\0candidate`: the key of {@link ElectionState.candidates}. */
export const candidateKey = (race: string, candidate: string): string => `${race}\0${candidate}`;

export function isRefusal(x: ElectionState | TransitionRefusal): x is TransitionRefusal {
  return 'refused' in x;
}

export function initialState(index: ElectionIndex): ElectionState {
  const candidates = new Map<string, CandidateStatus>();
  for (const race of index.config.races)
    for (const c of race.candidates) candidates.set(candidateKey(race.id, c.id), c.status);
  return {
    opensAt: index.opensAt,
    closesAt: index.closesAt,
    closedAt: null,
    pause: null,
    candidates,
    declarations: [],
    events: [],
    head: null,
  };
}

export function phaseAt(state: ElectionState, now: number): Phase {
  if ((state.closedAt !== null && state.closedAt <= now) || now >= state.closesAt) return 'closed';
  if (now < state.opensAt) return 'scheduled';
  return state.pause === null ? 'open' : 'paused';
}

/**
 * What is wrong with a record's shape for this election, or null: what the
 * signature covers and every reader checks before {@link applyEvent}
 * (version, election, id, type, who, reason, and each type's own fields).
 */
export function eventShapeProblem(index: ElectionIndex, e: ElectionEventRecord): string | null {
  if (e === null || typeof e !== 'object') return 'not an object';
  if (e.v !== RECORD_VERSION) return `unknown version ${JSON.stringify(e.v)}`;
  if (e.election !== index.id) return `for election ${JSON.stringify(e.election)}, not ${index.id}`;
  if (typeof e.id !== 'string' || !EVENT_ID_PATTERN.test(e.id))
    return 'id must be E- and 10 base32 characters';
  if (!TYPES.has(e.type)) return `unknown type ${JSON.stringify(e.type)}`;
  if (!Number.isSafeInteger(e.at) || e.at <= 0) return 'at must be Unix milliseconds';
  if (typeof e.by !== 'string' || e.by === '') return 'by (the operator) is required';
  if (typeof e.detail !== 'string' || e.detail.trim() === '') return 'a reason (detail) is required';
  if (e.detail.length > EVENT_DETAIL_MAX) return `the reason is longer than ${EVENT_DETAIL_MAX} characters`;
  if (typeof e.signature !== 'string' || e.signature === '') return 'signature is required';
  for (const f of ['race', 'candidate', 'reference', 'until'] as const) {
    if (e[f] !== undefined && (typeof e[f] !== 'string' || e[f] === '' || e[f].length > 200))
      return `${f}, when present, must be a non-empty string of at most 200 characters`;
  }
  const isCandidate = e.type in CANDIDATE_STATUS_OF;
  if (
    isCandidate !== (e.race !== undefined && e.candidate !== undefined) ||
    (!isCandidate && (e.race ?? e.candidate) !== undefined)
  )
    return isCandidate ? `${e.type} needs race and candidate` : `${e.type} takes no race or candidate`;
  if (e.type === 'candidate-removed' && e.reference === undefined)
    return 'candidate-removed needs the decision reference';
  if (e.reference !== undefined && e.type !== 'candidate-removed' && e.type !== 'declared')
    return `${e.type} takes no reference`;
  if (e.type === 'extended' && e.until === undefined) return 'extended needs until (the new closing time)';
  if (e.until !== undefined && e.type !== 'extended' && e.type !== 'paused')
    return `${e.type} takes no until`;
  if (e.until !== undefined && !Number.isFinite(Date.parse(e.until))) return 'until must be an ISO time';
  return null;
}

/**
 * Applies one verified event (signature and {@link eventShapeProblem} checked
 * by the caller); returns the new state, or why the transition is not allowed.
 */
export function applyEvent(
  state: ElectionState,
  index: ElectionIndex,
  e: ElectionEventRecord,
): ElectionState | TransitionRefusal {
  if (state.events.some((applied) => applied.id === e.id))
    return refuse('event_repeated', `event ${e.id} is already applied`);
  const last = state.events.at(-1);
  const at = Math.max(e.at, last?.at ?? 0);
  const phase = phaseAt(state, at);
  const next = (changes: Partial<ElectionState>): ElectionState => ({
    ...state,
    ...changes,
    events: [...state.events, e],
    head: e.id,
  });
  switch (e.type) {
    case 'opened':
      if (phase === 'closed') return refuse('election_already_closed', 'the election is closed');
      return next({ opensAt: Math.min(state.opensAt, at) });
    case 'paused':
      if (phase !== 'open')
        return refuse(phase === 'paused' ? 'already_paused' : 'not_open', `the election is ${phase}`);
      return next({ pause: { reason: e.detail, until: e.until ?? null, at, by: e.by } });
    case 'resumed':
      if (state.pause === null) return refuse('not_paused', 'the election is not paused');
      return next({ pause: null });
    case 'extended': {
      if (phase === 'closed') return refuse('election_already_closed', 'the election is closed');
      const until = Date.parse(e.until ?? '');
      if (!(until > state.closesAt)) {
        return refuse(
          'not_later',
          `the new closing time must be after ${new Date(state.closesAt).toISOString()}`,
        );
      }
      return next({ closesAt: until });
    }
    case 'closed':
      if (phase === 'closed') return refuse('election_already_closed', 'the election is already closed');
      return next({ closedAt: at, pause: null });
    case 'declared':
      if (phase !== 'closed')
        return refuse('not_closed', 'a result is declared only after the election closes');
      return next({ declarations: [...state.declarations, e] });
    case 'candidate-withdrawn':
    case 'candidate-removed':
    case 'candidate-reinstated': {
      const key = candidateKey(e.race ?? '', e.candidate ?? '');
      const current = state.candidates.get(key);
      if (current === undefined || index.race(e.race ?? '') === undefined) {
        return refuse('unknown_candidate', `race ${e.race} has no candidate ${e.candidate}`);
      }
      const status = CANDIDATE_STATUS_OF[e.type]!;
      if (current === status)
        return refuse('status_unchanged', `candidate ${e.candidate} is already ${status}`);
      const candidates = new Map(state.candidates);
      candidates.set(key, status);
      return next({ candidates });
    }
    default:
      return refuse('invalid_event', `unknown type ${JSON.stringify((e as { type: unknown }).type)}`);
  }
}

function refuse(refused: TransitionRefusalCode, message: string): TransitionRefusal {
  return { refused, message };
}
