/**
 * The polling-station official's page (`GET /official/`):
 *
 *   boot ─► catalogue, GET /v1/elections/{id} (the precinct's address and district)
 *        ─► token: #token=… (identity provider redirect, or the demo's `election staff-token` link),
 *                  else the one kept for this tab's shift (sessionStorage), else paste it
 *        ─► station: type or scan a member id, Enter ─► queue.ts (saved, then sent in order)
 *                    ─► "Issue a ballot" / the refusal, spoken; focus back in the field
 *
 * The token and the station's details stay in sessionStorage (this tab,
 * until sign-out or the tab is closed), so a reload, even offline (sw.ts
 * keeps the page's files), goes straight back to the station; the queue and
 * this shift's log are in localStorage (queue.ts). The
 * token's claims are only read here to show and to route: ingest verifies it.
 */
import { ApiError, getJson } from '../../src/api.js';
import { LANGS, type Lang, preferredLang, useLang } from '../../src/i18n.js';
import type { Manifest } from '../../src/manifest.js';
import { readJson, writeJson } from '../../src/persist.js';
import { untilAnswered, type Waiting } from '../../src/retry.js';
import { claimsOf, tokenFromFragment } from '../../src/token.js';
import { CheckInQueue, memberIdOf, waitingOnDevice } from './queue.js';
import {
  announceAnswer,
  paintAnswer,
  paintChrome,
  paintLoading,
  paintLog,
  paintProblem,
  paintQueue,
  paintSignIn,
  paintStation,
  type Station,
  typedMemberId,
} from './views.js';

/** This tab's sign-in, with what the page shows of the station (so an offline reload needs no request). */
const SESSION_KEY = 'saylau:official:session';

interface Official {
  readonly token: string;
  readonly election: string;
  readonly station: Station;
}

const forgetSession = () => sessionStorage.removeItem(SESSION_KEY);

let official: Official | null = null;
let queue: CheckInQueue | null = null;
let waiting: Waiting | null = null;
/** Repaints the current view in the current language. */
let repaint: () => void = () => undefined;

/**
 * An official's token names its election (`aud`), itself (`sub`) and its
 * precinct; null otherwise. Its expiry is left to ingest: a station's
 * tablet with a wrong clock must not refuse a good token (an expired one is
 * answered `token_expired`, and the page asks to sign in again).
 */
function officialClaims(token: string): { election: string; id: string; precinct: string } | null {
  const c = claimsOf(token);
  if (c === null || c.role !== 'official') return null;
  const { aud, sub, precinct } = c;
  const election = Array.isArray(aud) ? aud[0] : aud;
  if (typeof election !== 'string' || typeof sub !== 'string' || typeof precinct !== 'string') return null;
  return { election, id: sub, precinct };
}

async function stationOf(election: string, precinct: string, id: string): Promise<Station> {
  const manifest = await untilAnswered(
    () => getJson<Manifest>(`/v1/elections/${encodeURIComponent(election)}`),
    (w) => paintLoading(w),
  );
  const place = manifest.paperPrecincts?.find((p) => p.id === precinct);
  const district = manifest.districts.find((d) => d.id === place?.district);
  return {
    precinct,
    address: place?.address ?? null,
    district: place === undefined ? null : { id: place.district, names: district?.names ?? null },
    official: id,
  };
}

function signIn(notice: string | null): void {
  repaint = () =>
    paintSignIn({
      notice,
      waiting: waitingOnDevice(),
      onToken: (token) => void signedIn(token),
    });
  repaint();
}

async function signedIn(token: string): Promise<void> {
  const claims = officialClaims(token);
  if (claims === null) {
    forgetSession();
    signIn('signin.notOfficial');
    return;
  }
  paintLoading(null);
  let station: Station;
  try {
    station = await stationOf(claims.election, claims.precinct, claims.id);
  } catch (error) {
    // The election is not served here (or gone): the token cannot be used on this server.
    if (error instanceof ApiError && error.code === 'not_found') {
      forgetSession();
      signIn('signin.notOfficial');
      return;
    }
    throw error;
  }
  const session: Official = { token, election: claims.election, station };
  writeJson(SESSION_KEY, session, sessionStorage);
  openStation(session);
}

function openStation(session: Official): void {
  queue?.close();
  official = session;
  const { election, station } = session;
  queue = new CheckInQueue(election, station.precinct, {
    token: () => official?.token ?? null,
    changed: () => refresh(),
    answered: (entry) => {
      paintAnswer(entry);
      announceAnswer(entry);
    },
    waiting: (w) => {
      waiting = w;
      paintQueue(queue?.waitingCount() ?? 0, w);
    },
    signInAgain: () => {
      forgetSession();
      official = null;
      signIn('signin.again');
    },
  });
  const q = queue;
  const options = {
    station,
    onCheckIn: (typed: string) => {
      const memberId = memberIdOf(typed);
      if (memberId === null) return 'invalid' as const;
      const entry = q.add(memberId);
      if (entry === null) return 'already_waiting' as const;
      // Shown as queued until its answer arrives (at once when online).
      paintAnswer(entry);
      announceAnswer(entry);
      return 'queued' as const;
    },
    onSignOut: () => {
      q.forgetAnswered();
      q.close();
      forgetSession();
      official = null;
      queue = null;
      signIn(null);
    },
  };
  repaint = () => {
    paintStation(options, typedMemberId());
    refresh();
  };
  repaint();
  q.drain(); // what an earlier page load left unsent
}

function refresh(): void {
  if (queue === null) return;
  const entries = queue.entries();
  paintLog(entries);
  paintQueue(queue.waitingCount(), waiting);
}

async function switchLang(next: Lang): Promise<void> {
  await useLang(next, (url) => getJson(url));
  paintChrome();
  repaint();
}

async function boot(): Promise<void> {
  await untilAnswered(
    () => useLang(preferredLang(), (url) => getJson(url)),
    () => undefined, // the page's trilingual "Loading…" stays up
  );
  for (const button of document.querySelectorAll<HTMLButtonElement>('#langs button')) {
    button.addEventListener('click', () => {
      const next = button.dataset.lang as Lang;
      if ((LANGS as readonly string[]).includes(next)) void switchLang(next);
    });
  }
  paintChrome();
  // Keeps the page's files for a reload while offline (sw.ts); the page works without it.
  void navigator.serviceWorker?.register('/official/sw.js', { scope: '/official/' }).catch(() => undefined);
  const token = tokenFromFragment();
  if (token !== null) return signedIn(token);
  const session = readJson<Official>(SESSION_KEY, sessionStorage);
  if (session !== null && officialClaims(session.token) !== null) return openStation(session);
  forgetSession();
  return signIn(session === null ? null : 'signin.again');
}

void boot().catch((error: unknown) => {
  console.error(error);
  paintProblem();
});
