/**
 * `/v1/observe/feed`: the observers' live view as a WebSocket on the
 * publisher's port (issue 16; served apart from voting). The first message
 * a client sends is `{"token": "<staff token>"}`: an observer's, an
 * operator's or a committee member's (observer-tokens.ts). Anything else
 * closes the socket — 4403 `token_wrong_role` (a voter's or an official's
 * token), 4401 `unauthorized` / `token_expired` / … (no token, a bad one, or
 * none within 5 s) — with the code as the close reason.
 *
 * Once in, the socket is subscribed to one uWS topic and gets the latest
 * view at once, then every tick (2 s) and whenever the commission acts: one
 * serialisation per push, whatever the number of observers.
 *
 *   {v, at, election, phase, pause, closes,
 *    turnout {total, regions [{code, roll, issuedOnline, paperCheckIns, castOnline,
 *                              districts [{id, issuedOnline, paperCheckIns, castOnline}]}]},
 *    ingest {processes, accepting, paused, overloaded},
 *    actions [last 50: {id, type, at, by, detail, race, candidate, reference, until}],
 *    reports {[category]: {[status]: n}}, chain {seq, hash, takenAt}}
 *
 * Nothing here can link a voter to a ballot: counts per district (the grain
 * and the time — whole seconds, refreshed every few seconds — of live.json),
 * no ids of voters, credentials or ballots.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../common/log.js';
import type { TemplatedApp, Uws, WebSocket } from '../common/uws.js';
import { type ElectionIndex, isElectionError } from '../election/index.js';
import { type IngestHealthSummary, readIngestHealth } from './ingest-health.js';
import type { PublisherMetrics } from './metrics.js';
import type { WatcherVerifier } from './observer-tokens.js';
import { Repeater } from './repeater.js';
import type { ResultsSource, RollSource, TurnoutRow } from './results-source.js';
import type { ChainHead } from './snapshot-store.js';

export const FEED_PATH = '/v1/observe/feed';
export const FEED_TICK_MS = 2_000;
/** How long a socket may stay without sending its token. */
export const AUTH_TIMEOUT_MS = 5_000;
/** Close codes: 4401 no or bad token, 4403 a token of a role that may not watch. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_WRONG_ROLE = 4403;
/** Observers per publisher process, under the 20,000 open-files cap with room for the site's HTTP sockets. */
export const MAX_WATCHERS = 12_000;
const TOPIC = 'observe';
const MAX_BUFFERED = 256 * 1024;

export type FeedPhase = 'scheduled' | 'open' | 'paused' | 'closed';

/** A commission action as observers see it. */
export interface FeedAction {
  readonly id: string;
  readonly type: string;
  readonly at: number;
  readonly by: string;
  readonly detail: string;
  readonly race: string | null;
  readonly candidate: string | null;
  readonly reference: string | null;
  readonly until: string | null;
}

/** What the commission has done: from the election-events stream (or the config's times alone). */
export interface CommissionView {
  readonly phase: FeedPhase;
  readonly pause: { readonly reason: string; readonly until: string | null } | null;
  /** ISO 8601: the closing time now in force. */
  readonly closes: string;
  /** The last 50 applied actions, oldest first. */
  readonly actions: readonly FeedAction[];
}

export interface TurnoutCounts {
  readonly issuedOnline: number;
  readonly paperCheckIns: number;
  readonly castOnline: number;
}

export interface FeedRegion extends TurnoutCounts {
  readonly code: string;
  readonly roll: number;
  readonly districts: readonly (TurnoutCounts & { readonly id: string })[];
}

export interface FeedBody {
  readonly v: 1;
  readonly at: string;
  readonly election: string;
  readonly phase: FeedPhase;
  readonly pause: CommissionView['pause'];
  readonly closes: string;
  readonly turnout: {
    readonly total: TurnoutCounts & { readonly roll: number };
    readonly regions: readonly FeedRegion[];
  };
  readonly ingest: IngestHealthSummary;
  readonly actions: readonly FeedAction[];
  readonly reports: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly chain: ChainHead;
}

export interface ObserverFeedOptions {
  readonly index: ElectionIndex;
  readonly source: Pick<ResultsSource, 'turnout'>;
  readonly roll: RollSource;
  readonly redis: () => Redis;
  readonly head: () => ChainHead;
  readonly commission: (now: number) => CommissionView;
  /** Complaint counts by category and status; `{}` until reports are counted. */
  readonly reports: () => Promise<FeedBody['reports']>;
  readonly verify: WatcherVerifier;
  readonly metrics: PublisherMetrics;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly now?: () => number;
}

interface WatcherData {
  /** The first message (the token) arrived: later ones are ignored. */
  asked: boolean;
  authed: boolean;
  closed: boolean;
  timer: NodeJS.Timeout | null;
}

const NO_HEALTH: IngestHealthSummary = { processes: 0, accepting: 0, paused: 0, overloaded: 0 };

export class ObserverFeed {
  readonly #o: ObserverFeedOptions;
  readonly #repeater = new Repeater(() => this.#tick());
  #app: TemplatedApp | null = null;
  #watchers = 0;
  #turnout: FeedBody['turnout'] | null = null;
  #ingest: IngestHealthSummary = NO_HEALTH;
  #reports: FeedBody['reports'] = {};
  #last = '';
  #failing = new Set<string>();

  constructor(options: ObserverFeedOptions) {
    this.#o = options;
  }

  get watchers(): number {
    return this.#watchers;
  }

  /** The latest pushed view (empty before the first). */
  get latest(): string {
    return this.#last;
  }

  /** Mounts the WebSocket route on the publisher's public app. */
  mount(app: TemplatedApp, uws: Uws): void {
    this.#app = app;
    app.ws<WatcherData>(FEED_PATH, {
      maxPayloadLength: 16 * 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: MAX_BUFFERED,
      closeOnBackpressureLimit: 1,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        if (this.#watchers >= MAX_WATCHERS) {
          res.writeStatus('503 Service Unavailable').writeHeader('retry-after', '5').end('overloaded\n');
          return;
        }
        res.upgrade<WatcherData>(
          { asked: false, authed: false, closed: false, timer: null },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        this.#watchers++;
        this.#o.metrics.observers.set(this.#watchers);
        const data = ws.getUserData();
        this.#awaitToken(ws, data);
      },
      message: (ws, message) => {
        const data = ws.getUserData();
        if (data.asked) return; // observers only listen
        data.asked = true;
        if (data.timer !== null) clearTimeout(data.timer);
        data.timer = null;
        const token = tokenOf(Buffer.from(message).toString('utf8'));
        if (token === null) return this.#refuse(ws, CLOSE_UNAUTHORIZED, 'unauthorized');
        this.#o.verify(token).then(
          () => {
            if (data.closed) return;
            data.authed = true;
            this.#o.metrics.observerAuth.inc({ outcome: 'ok' });
            ws.cork(() => {
              ws.subscribe(TOPIC);
              if (this.#last !== '') ws.send(this.#last, false);
            });
          },
          (err: unknown) => {
            if (!isElectionError(err)) this.#o.logger.warn({ err }, "observers' feed: token check failed");
            else
              this.#o.logger.info({ code: err.code, reason: err.message }, "observers' feed: token refused");
            if (data.closed) return;
            const code = isElectionError(err) ? err.code : 'unauthorized';
            this.#refuse(ws, code === 'token_wrong_role' ? CLOSE_WRONG_ROLE : CLOSE_UNAUTHORIZED, code);
          },
        );
      },
      close: (ws) => {
        const data = ws.getUserData();
        data.closed = true;
        if (data.timer !== null) clearTimeout(data.timer);
        this.#watchers--;
        this.#o.metrics.observers.set(this.#watchers);
      },
    });
  }

  start(): void {
    this.#repeater.start();
  }

  stop(): Promise<void> {
    return this.#repeater.stop();
  }

  /** Pushes now with the counts already read (a commission action must not wait for the next tick). */
  push(): void {
    if (this.#turnout === null) return; // the first tick has not read turnout yet; it pushes soon
    this.#publish();
  }

  /** The view now, from the counts last read. */
  body(): FeedBody {
    const { index, head, commission } = this.#o;
    const now = (this.#o.now ?? Date.now)();
    const view = commission(now);
    return {
      v: 1,
      at: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      election: index.id,
      phase: view.phase,
      pause: view.pause,
      closes: view.closes,
      turnout: this.#turnout ?? emptyTurnout(index),
      ingest: this.#ingest,
      actions: view.actions,
      reports: this.#reports,
      chain: head(),
    };
  }

  /** One tick: read turnout, ingest health and reports (each keeps its last value if it fails), push. */
  async #tick(): Promise<number> {
    const { index, source, roll, redis, reports } = this.#o;
    const [turnout, health, counts] = await Promise.allSettled([
      Promise.all([source.turnout(index.id), roll.rollByRegion(index.id)]),
      readIngestHealth(redis()),
      reports(),
    ]);
    if (this.#kept('turnout', turnout)) this.#turnout = turnoutOf(index, turnout.value[0], turnout.value[1]);
    if (this.#kept('ingest', health)) this.#ingest = health.value;
    if (this.#kept('reports', counts)) this.#reports = counts.value;
    this.#publish();
    return this.#o.tickMs ?? FEED_TICK_MS;
  }

  #publish(): void {
    this.#last = JSON.stringify(this.body());
    this.#o.metrics.observerPushes.inc();
    this.#app?.publish(TOPIC, this.#last, false);
  }

  /** Whether a part was read; a failure is logged once until that part reads again. */
  #kept<T>(part: string, result: PromiseSettledResult<T>): result is PromiseFulfilledResult<T> {
    if (result.status === 'fulfilled') {
      this.#failing.delete(part);
      return true;
    }
    if (!this.#failing.has(part)) {
      this.#failing.add(part);
      this.#o.logger.warn(
        { err: result.reason, part },
        "observers' feed: cannot read; keeping the last value",
      );
    }
    return false;
  }

  /**
   * Closes a socket that sent no token within {@link AUTH_TIMEOUT_MS}. A timer that fires late
   * means this process stalled (a busy host): the token may be waiting unread, so wait once more.
   */
  #awaitToken(ws: WebSocket<WatcherData>, data: WatcherData): void {
    const due = Date.now() + AUTH_TIMEOUT_MS;
    data.timer = setTimeout(() => {
      if (data.closed || data.asked) return;
      if (Date.now() - due > 1_000) return this.#awaitToken(ws, data);
      this.#refuse(ws, CLOSE_UNAUTHORIZED, 'unauthorized');
    }, AUTH_TIMEOUT_MS);
  }

  #refuse(ws: WebSocket<WatcherData>, code: number, reason: string): void {
    const data = ws.getUserData();
    if (data.closed) return;
    this.#o.metrics.observerAuth.inc({ outcome: reason });
    ws.end(code, reason);
  }
}

function tokenOf(text: string): string | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const token = (parsed as { token?: unknown }).token;
    return typeof token === 'string' && token !== '' ? token : null;
  } catch {
    return null;
  }
}

/** Every region and district of the config, with counts from the turnout rows (issued on paper = checked in). */
export function turnoutOf(
  index: ElectionIndex,
  rows: readonly TurnoutRow[],
  rolls: ReadonlyMap<string, number>,
): FeedBody['turnout'] {
  const byDistrict = new Map(rows.map((r) => [r.district, r]));
  const total = { roll: 0, issuedOnline: 0, paperCheckIns: 0, castOnline: 0 };
  const regions = index.config.regions.map((region) => {
    const districts = index.districtsOf(region.code).map((d) => {
      const row = byDistrict.get(d.id);
      return {
        id: d.id,
        issuedOnline: row?.issuedOnline ?? 0,
        paperCheckIns: row?.issuedPaper ?? 0,
        castOnline: row?.castOnline ?? 0,
      };
    });
    const sum = (k: keyof TurnoutCounts) => districts.reduce((a, d) => a + d[k], 0);
    const r = {
      code: region.code,
      roll: rolls.get(region.code) ?? 0,
      issuedOnline: sum('issuedOnline'),
      paperCheckIns: sum('paperCheckIns'),
      castOnline: sum('castOnline'),
      districts,
    };
    total.roll += r.roll;
    total.issuedOnline += r.issuedOnline;
    total.paperCheckIns += r.paperCheckIns;
    total.castOnline += r.castOnline;
    return r;
  });
  return { total, regions };
}

const emptyTurnout = (index: ElectionIndex): FeedBody['turnout'] => turnoutOf(index, [], new Map());
