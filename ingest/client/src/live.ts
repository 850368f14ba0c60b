/**
 * The election as the commission runs it right now: `GET /v1/elections/{id}/status`
 * (ingest/routes/election-status.ts) read at start, every 15 s, and at once
 * when an answer says the commission changed something (paused, closed, a
 * candidate withdrawn or removed). The page shows a banner from it and
 * marks candidates who are no longer standing.
 */
import { getJson } from './api.js';
import type { Race } from './manifest.js';

export interface LiveStatus {
  readonly phase: 'scheduled' | 'open' | 'paused' | 'closed';
  readonly opens: string;
  readonly closes: string;
  readonly pause: { readonly reason: string; readonly until: string | null } | null;
  /** Every candidate not standing now: race → candidate → status. */
  readonly candidates: Readonly<Record<string, Readonly<Record<string, 'withdrawn' | 'removed'>>>>;
  readonly head: string | null;
}

/** Answers that mean the commission changed something: read the status again at once. */
export const LIVE_CODES: ReadonlySet<string> = new Set([
  'election_not_open',
  'election_paused',
  'election_closed',
  'candidate_removed',
  'candidate_withdrawn',
]);

const POLL_MS = 15_000;

export class LiveStatusWatch {
  status: LiveStatus | null = null;
  private candidatesJson = '';
  private statusJson = '';
  private timer: number | null = null;

  constructor(
    private readonly election: string,
    /** Called when the status changed; `candidates` says whether who is standing changed. */
    private readonly onChange: (status: LiveStatus, candidates: boolean) => void,
  ) {}

  /** The first read (a failure leaves the manifest's statuses), then every 15 s. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= window.setInterval(() => void this.refresh(), POLL_MS);
  }

  async refresh(): Promise<void> {
    let next: LiveStatus;
    try {
      next = await getJson<LiveStatus>(`/v1/elections/${encodeURIComponent(this.election)}/status`);
    } catch {
      return; // the next poll tries again; voting itself does not depend on this read
    }
    const json = JSON.stringify(next);
    if (json === this.statusJson) return;
    this.statusJson = json;
    const candidatesJson = JSON.stringify(next.candidates);
    const candidates = candidatesJson !== this.candidatesJson;
    this.candidatesJson = candidatesJson;
    this.status = next;
    this.onChange(next, candidates);
  }
}

/** The manifest's races with each candidate's status as the commission left it. */
export function withLiveStatus(races: readonly Race[], status: LiveStatus | null): Race[] {
  if (status === null) return [...races];
  return races.map((race) => {
    const changed = status.candidates[race.id] ?? {};
    return {
      ...race,
      candidates: race.candidates.map((c) => ({ ...c, status: changed[c.id] ?? 'active' })),
    };
  });
}

/** Drops marks for candidates no longer standing; true when any was dropped. */
export function pruneDraft(races: readonly Race[], draft: Map<string, Set<string>>): boolean {
  let pruned = false;
  for (const race of races) {
    const chosen = draft.get(race.id);
    if (chosen === undefined) continue;
    for (const c of race.candidates) {
      if (c.status !== 'active' && chosen.delete(c.id)) pruned = true;
    }
  }
  return pruned;
}
