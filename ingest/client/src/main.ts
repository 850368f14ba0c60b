/**
 * The voter's path, resumable at every step (state in persist.ts):
 *
 *   boot ─► receipt kept? ─► show it
 *        ─► vote in progress? ─► issuing: resend the same blinded message
 *                             ─► ballot:  show the ballot again
 *                             ─► casting: resend the same padded body
 *        ─► sign in (dev list, or redirect to the identity provider and back with #token=)
 *   boot ─► the election summary (no races, no keys: small before sign-in)
 *   sign in ─► the district's slice, its SHA-256 = the summary's? (slice.ts; refuse if not)
 *           ─► district key = the results site's keys.json? (key-check.ts; refuse if not)
 *           ─► blind (lazy RFC 9474 chunk) ─► POST /v1/credentials ─► finalize
 *           ─► ballot ─► review ─► POST /v1/ballots (until answered) ─► receipt
 *
 * The marks are stored at every change and the step (ballot or review) with
 * them, and each step is a history entry: a reload, Back/Forward or a crash
 * finds the voter where they were, marks and all (history.ts).
 *
 * Every request that can be refused for load or lost in transit is resent
 * unchanged by retry.ts, so an identical retry yields the same receipt.
 * Meanwhile live.ts follows the commission (paused, closed, candidates no
 * longer standing): a banner above every step, and the ballot as it stands now.
 */

import { groupReceiptCode } from '../../../common/web/receipt-code.js';
import { ballotBody } from '../../../election/ballot-size.js';
import { type ApiCode, ApiError, getFixed, getJson, parseJson, request } from './api.js';
import { ballotIdOf, fromB64u } from './bytes.js';
import { announce } from './dom.js';
import { currentStep, enterStep, onStepChange } from './history.js';
import { LANGS, type Lang, nameOf, preferredLang, t, useLang } from './i18n.js';
import { LIVE_CODES, LiveStatusWatch, pruneDraft, withLiveStatus } from './live.js';
import type { DistrictSlice, ElectionSummary } from './manifest.js';
import {
  clearReceipt,
  clearVote,
  keepOnlyReceipt,
  loadReceipt,
  loadVote,
  type Receipt,
  saveVote,
  type VoteState,
} from './persist.js';
import { untilAnswered, type Waiting } from './retry.js';
import { fetchSlice } from './slice.js';
import { claimsOf, tokenFromFragment } from './token.js';
import {
  paintAnotherDevice,
  paintBallot,
  paintBanner,
  paintChrome,
  paintProblem,
  paintReceipt,
  paintReview,
  paintSignIn,
  paintWorking,
  type ReceiptOptions,
  receiptText,
} from './views.js';

interface ClientConfig {
  readonly devLogin: boolean;
  readonly identityProviderUrl: string;
  readonly resultsPort: number;
  /** How often the results site publishes: the publisher's real interval. */
  readonly snapshotIntervalSec: number;
}

let config: ClientConfig;
let summary: ElectionSummary | null = null;
/** The voter's district slice, fetched (and digest-checked) once the district is known. */
let slice: DistrictSlice | null = null;
let election = '';
/** Marks on the ballot being filled in; stored with the vote state at every change (`keepMarks`). */
const draft = new Map<string, Set<string>>();
/** Repaints the current step in the current language. */
let repaint: () => void = () => undefined;
/** The current step shows candidates (ballot, review): repaint it when who is standing changes. */
let showsCandidates = false;
let live: LiveStatusWatch | null = null;
/** Stores the marks as they are now, while the ballot or its review is shown (after pruning). */
let keepMarks: () => void = () => undefined;

const credentialModule = () => import('./credential.js');

function resultsUrl(ballotId?: string): string {
  const base = `${location.protocol}//${location.hostname}:${config.resultsPort}/`;
  return ballotId === undefined ? base : `${base}#receipt=${ballotId}`;
}

function paint(view: () => void, candidates = false): void {
  repaint = view;
  showsCandidates = candidates;
  view();
}

/** An answer that says the commission changed something: read the status now, not in 15 s. */
function noticeCode(code: string): void {
  if (LIVE_CODES.has(code)) void live?.refresh();
}

/** The waiting panel of a step, reading the status at once when the wait is the commission's pause. */
function waitingFor(step: Parameters<typeof paintWorking>[0]) {
  return (w: Waiting) => {
    noticeCode(w.code);
    paintWorking(step, w);
  };
}

/**
 * The slice of the district a vote is for: the one in memory or stored with
 * the vote (checked when first fetched; a voter holding a credential must not
 * depend on fetching it again), else fetched and checked. Paints the problem
 * and returns null when it cannot be had or does not match the summary.
 */
async function sliceFor(district: string, step: Parameters<typeof paintWorking>[0], held?: DistrictSlice) {
  if (slice?.district.id === district) return slice;
  if (held?.district.id === district) {
    slice = held;
    return held;
  }
  try {
    slice = await untilAnswered(() => fetchSlice(summary!, district), waitingFor(step));
    return slice;
  } catch (error) {
    problem(error instanceof ApiError ? error.code : 'unknown');
    return null;
  }
}

function problem(code: ApiCode): void {
  if (code === 'credential_already_issued') {
    paint(() =>
      paintAnotherDevice({
        about: summary?.about,
        resultsUrl: resultsUrl(),
        onRestart: () => void signIn(null),
      }),
    );
    return;
  }
  paint(() =>
    paintProblem({
      code,
      resultsUrl: resultsUrl(),
      // Whoever found the refusal final has already dropped the vote; anything still stored (a
      // credential, a blinded request) is what "try again" resumes, so it is never thrown away here.
      onRestart: () => void again(),
    }),
  );
}

/* ---------- sign in ---------- */

async function signIn(notice: string | null): Promise<void> {
  let members: { memberId: string; district: string }[] | null = null;
  if (config.devLogin) {
    paint(() => paintWorking('connecting', null));
    const page = await untilAnswered(
      () =>
        getJson<{ members: { memberId: string; district: string }[] }>(
          `/v1/dev/members?election=${encodeURIComponent(election)}&limit=50`,
        ),
      (w) => paintWorking('connecting', w),
    );
    members = page.members;
  }
  paint(() =>
    paintSignIn({
      devLogin: config.devLogin,
      identityProviderUrl: config.identityProviderUrl,
      members,
      notice,
      summary: summary!,
      onDevLogin: (memberId) => void devLogin(memberId),
      onProvider: () => {
        const back = `${location.origin}${location.pathname}`;
        const url = new URL(config.identityProviderUrl);
        url.searchParams.set('election', election);
        url.searchParams.set('redirect_uri', back);
        location.assign(url.toString());
      },
    }),
  );
}

async function devLogin(memberId: string): Promise<void> {
  paint(() => paintWorking('connecting', null));
  try {
    const { token } = await untilAnswered(
      () => request<{ token: string }>('POST', '/v1/dev/login', JSON.stringify({ election, memberId })),
      (w) => paintWorking('connecting', w),
    );
    await signedIn(token);
  } catch (error) {
    problem(error instanceof ApiError ? error.code : 'unknown');
  }
}

async function signedIn(token: string): Promise<void> {
  const claim = claimsOf(token)?.district;
  const districtId = typeof claim === 'string' ? claim : null;
  if (districtId === null || !summary!.districts.some((d) => d.id === districtId)) {
    problem('not_eligible');
    return;
  }
  const held = loadVote(election);
  let vote: VoteState;
  if (held?.phase === 'issuing' && held.district === districtId) {
    // Signed in again after the token expired: the same blinded message, so a credential
    // already issued for it comes back instead of `credential_already_issued`.
    vote = { ...held, token };
  } else {
    paint(() => paintWorking('preparing', null));
    const own = await sliceFor(districtId, 'preparing');
    if (own === null) return;
    const district = own.district;
    const [{ blind }, { checkDistrictKey }] = await Promise.all([
      credentialModule(),
      import('./key-check.js'),
    ]);
    // Before anything is blinded or sent: a key other than the published one could mark this voter.
    if ((await checkDistrictKey(resultsUrl(), summary!, district)) === 'mismatch') {
      problem('district_key_mismatch');
      return;
    }
    vote = {
      phase: 'issuing',
      district: district.id,
      token,
      slice: own,
      ...(await blind(district.key.spki)),
    };
  }
  saveVote(election, vote);
  await issue(vote);
}

/* ---------- credential ---------- */

async function issue(vote: Extract<VoteState, { phase: 'issuing' }>): Promise<void> {
  paint(() => paintWorking('issuing', null));
  const own = await sliceFor(vote.district, 'issuing', vote.slice);
  if (own === null) return;
  const district = own.district;
  let blindSignature: string;
  try {
    ({ blindSignature } = await untilAnswered(
      () =>
        request<{ blindSignature: string }>(
          'POST',
          '/v1/credentials',
          JSON.stringify({ election, blindedMessage: vote.blinded }),
          { authorization: `Bearer ${vote.token}` },
        ),
      waitingFor('issuing'),
    ));
  } catch (error) {
    const code = error instanceof ApiError ? error.code : 'unknown';
    noticeCode(code);
    // A token that is no good any more (or never was): sign in again, keeping the blinded request.
    if (code === 'unauthorized' || code === 'token_expired' || code === 'token_too_old') {
      saveVote(election, { ...vote, token: '' });
      await signIn('signin.expired');
      return;
    }
    clearVote(election);
    problem(code);
    return;
  }
  const { finalize } = await credentialModule();
  let signature: string;
  try {
    signature = await finalize(district.key.spki, vote.prepared, blindSignature, vote.inv);
  } catch {
    clearVote(election);
    problem('invalid_credential');
    return;
  }
  const next: VoteState = {
    phase: 'ballot',
    district: district.id,
    message: vote.prepared,
    signature,
    slice: own,
  };
  saveVote(election, next);
  announce('');
  await showBallot(next);
}

/* ---------- ballot ---------- */

/** The marks as stored: candidate ids per race, races without marks left out. */
function marksOf(marks: Map<string, Set<string>>): Record<string, string[]> {
  return Object.fromEntries(
    [...marks].filter(([, ids]) => ids.size > 0).map(([race, ids]) => [race, [...ids]]),
  );
}

/**
 * The ballot and its review. `step` is where to start (a reload or a crash
 * restores the stored one, marks and all); every mark and every move between
 * the two is written to storage at once, and each move is a history entry.
 */
async function showBallot(
  vote: Extract<VoteState, { phase: 'ballot' }>,
  notice: string | null = null,
  restored = false,
): Promise<void> {
  const own = await sliceFor(vote.district, 'connecting', vote.slice);
  if (own === null) return;
  const district = own.district;
  draft.clear();
  for (const [race, ids] of Object.entries(vote.marks ?? {})) draft.set(race, new Set(ids));
  let step = vote.step ?? 'ballot';
  let current = vote;
  const keep = () => {
    // Another tab may have cast with this credential meanwhile: never write the ballot back over
    // its cast (that body is what a resend must repeat) or its receipt.
    if (loadVote(election)?.phase === 'casting' || loadReceipt(election) !== null) return;
    current = { ...vote, marks: marksOf(draft), step };
    saveVote(election, current);
  };
  // Read at each paint: a candidate withdrawn or removed meanwhile is shown as no longer standing.
  const races = () => withLiveStatus(own.races, live?.status ?? null);
  // Stored marks for someone no longer standing are dropped (told about in `notice`).
  pruneDraft(races(), draft);
  const review = () =>
    paintReview({
      races: races(),
      draft,
      onChange: () => go('ballot', 'push'),
      onCast: () => {
        onStepChange(null);
        void castFinal(current, own);
      },
    });
  const ballot = () =>
    paintBallot({
      slice: own,
      districtName: nameOf(district.names),
      races: races(),
      draft,
      notice: step === 'ballot' ? notice : null,
      onMark: keep,
      onReview: () => go('review', 'push'),
    });
  const go = (next: typeof step, how: 'push' | 'replace' | 'none') => {
    step = next;
    keep();
    if (how !== 'none') enterStep(next, how);
    paint(next === 'review' ? review : ballot, true);
  };
  onStepChange((next) => go(next, 'none'));
  keepMarks = () => {
    if (repaint === ballot || repaint === review) keep();
  };
  if (restored && step === 'review' && currentStep() !== 'review') {
    // Reopened on the review (a new tab after a crash): Back should still lead to the ballot.
    enterStep('ballot', 'replace');
    go('review', 'push');
  } else go(step, 'replace');
}

function statusChanged(candidates: boolean): void {
  paintBanner(live?.status ?? null);
  if (!candidates || slice === null) return;
  const pruned = pruneDraft(withLiveStatus(slice.races, live?.status ?? null), draft);
  if (pruned) keepMarks();
  if (showsCandidates) repaint();
  if (pruned) announce(t('ballot.pruned'));
}

async function castFinal(vote: Extract<VoteState, { phase: 'ballot' }>, own: DistrictSlice): Promise<void> {
  const district = own.district;
  const selections = own.races.map((race) => {
    const chosen = draft.get(race.id) ?? new Set<string>();
    return { race: race.id, choices: race.candidates.filter((c) => chosen.has(c.id)).map((c) => c.id) };
  });
  const body = ballotBody(
    election,
    district.id,
    vote.message,
    vote.signature,
    selections,
    summary!.ballotBytes,
  );
  const next: VoteState = {
    phase: 'casting',
    district: district.id,
    message: vote.message,
    body,
    slice: own,
  };
  saveVote(election, next); // before sending: a crash from here on resends exactly this body
  draft.clear();
  await cast(next);
}

async function cast(vote: Extract<VoteState, { phase: 'casting' }>): Promise<void> {
  paint(() => paintWorking('casting', null));
  try {
    const answer = await untilAnswered(
      () => request<{ ballotId: string }>('POST', '/v1/ballots', vote.body),
      waitingFor('casting'),
    );
    const receipt = {
      ballotId: answer.ballotId,
      recordedAt: new Date().toISOString(),
    };
    keepOnlyReceipt(election, receipt);
    showReceipt(receipt, null);
  } catch (error) {
    const code = error instanceof ApiError ? error.code : 'unknown';
    if (code === 'credential_already_used') {
      // The credential's ballot id is known here too: show that ballot's receipt.
      const ballotId = await ballotIdOf(fromB64u(vote.message));
      const receipt = { ballotId };
      keepOnlyReceipt(election, receipt);
      showReceipt(receipt, 'receipt.alreadyUsed');
      return;
    }
    noticeCode(code);
    if (code === 'candidate_removed' || code === 'candidate_withdrawn') {
      // Nothing was recorded and the credential is unused: back to the ballot as it stands now,
      // with the voter's marks but those for candidates no longer standing.
      const sent = JSON.parse(vote.body) as {
        credential: { signature: string };
        selections: { race: string; choices: string[] }[];
      };
      const back: VoteState = {
        phase: 'ballot',
        district: vote.district,
        message: vote.message,
        signature: sent.credential.signature,
        marks: Object.fromEntries(sent.selections.map((s) => [s.race, s.choices])),
        ...(vote.slice === undefined ? {} : { slice: vote.slice }),
      };
      saveVote(election, back);
      await live?.refresh();
      await showBallot(back, 'ballot.changed');
      return;
    }
    clearVote(election);
    problem(code);
  }
}

/* ---------- receipt ---------- */

function showReceipt(receipt: Receipt, note: string | null): void {
  let status: ReceiptOptions['status'] = 'checking';
  let qr: SVGSVGElement | null = null;
  const link = resultsUrl(receipt.ballotId);
  const electionName = () => (summary === null ? '' : nameOf(summary.names));
  const view = () =>
    paintReceipt({
      receipt,
      electionName: electionName(),
      resultsUrl: link,
      intervalSec: config.snapshotIntervalSec,
      note,
      status,
      qr,
      onCheck: () => void check(),
      onSave: () => download(receiptText({ receipt, electionName: electionName(), resultsUrl: link })),
      onFinish: () => {
        clearReceipt(election);
        clearVote(election);
        void signIn(null);
      },
    });
  const check = async () => {
    try {
      const answer = await getJson<{ status: 'accepted' | 'counted' }>(`/v1/receipts/${receipt.ballotId}`);
      status = answer.status;
    } catch (error) {
      status = error instanceof ApiError && error.code === 'not_found' ? 'pending' : 'unknown';
    }
    // Updated in place (a repaint would move the voter's focus); the line is a status region.
    const line = document.getElementById('receipt-status');
    if (line !== null && repaint === view) {
      line.className = `status ${status}`;
      line.textContent = t(`receipt.status.${status}`);
    }
  };
  onStepChange(null);
  paint(view);
  // Said once the receipt is up, so "Sending your ballot…" is not the last word the voter hears.
  announce(t('receipt.title'));
  void import('./qr.js').then(({ qrSvg }) => {
    qr = qrSvg(link, groupReceiptCode(receipt.ballotId).join(' '));
    if (repaint === view) document.getElementById('qr-slot')?.replaceChildren(qr);
  });
  void check();
}

/** Saves `text` as a file (the receipt): a link to it, clicked; nothing leaves the device. */
function download(text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'receipt.txt';
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/* ---------- start ---------- */

async function switchLang(next: Lang): Promise<void> {
  await useLang(next, (url) => getJson(url));
  paintChrome(summary);
  paintBanner(live?.status ?? null);
  repaint();
}

/** The election summary (compressed, revalidated by ETag), retried until answered. */
function fetchSummary(onWait: (w: Waiting) => void): Promise<ElectionSummary> {
  return untilAnswered(
    async () =>
      parseJson<ElectionSummary>(await getFixed(`/v1/elections/${encodeURIComponent(election)}/summary`)),
    onWait,
  );
}

async function boot(): Promise<void> {
  await untilAnswered(
    () => useLang(preferredLang(), (url) => getJson(url)),
    // Before the catalogue there is no language to say anything in: the page's trilingual
    // "Loading…" stays up while the catalogue is retried.
    () => undefined,
  );
  for (const button of document.querySelectorAll<HTMLButtonElement>('#langs button')) {
    button.addEventListener('click', () => {
      const next = button.dataset.lang as Lang;
      if ((LANGS as readonly string[]).includes(next)) void switchLang(next);
    });
  }
  paintChrome(null);
  paint(() => paintWorking('connecting', null));
  const onWait = (w: Parameters<typeof paintWorking>[1]) => paintWorking('connecting', w);
  config = await untilAnswered(() => getJson<ClientConfig>('/assets/config.json'), onWait);
  const list = await untilAnswered(() => getJson<{ elections: { id: string }[] }>('/v1/elections'), onWait);
  election = list.elections[0]?.id ?? '';
  summary = await fetchSummary(onWait);
  paintChrome(summary);
  live = new LiveStatusWatch(election, (_, candidates) => statusChanged(candidates));
  await live.start();

  return resume(tokenFromFragment());
}

/** "Try again" after a problem: the summary afresh (it may be what failed), then resume. */
async function again(): Promise<void> {
  paint(() => paintWorking('connecting', null));
  const onWait = (w: Parameters<typeof paintWorking>[1]) => paintWorking('connecting', w);
  summary = await fetchSummary(onWait);
  slice = null;
  paintChrome(summary);
  await resume(null);
}

/** Where the stored state says the voter is: the receipt, the vote in progress, or signing in. */
async function resume(fragmentToken: string | null): Promise<void> {
  const receipt = loadReceipt(election);
  if (receipt !== null) return showReceipt(receipt, null);
  let vote = loadVote(election);
  if (vote !== null && vote.phase !== 'casting' && live?.status?.phase === 'closed') {
    // Voting is over: a credential or an unsent ballot can no longer be used, so its marks
    // leave this device (a ballot already being sent is still resent: the log may hold it).
    clearVote(election);
    vote = null;
  }
  if (vote?.phase === 'casting') return cast(vote);
  if (vote?.phase === 'ballot') return showBallot(vote, null, true);
  if (fragmentToken !== null) return signedIn(fragmentToken);
  if (vote?.phase === 'issuing' && vote.token !== '') return issue(vote);
  return signIn(vote?.phase === 'issuing' ? 'signin.expired' : null);
}

void boot().catch((error: unknown) => {
  // Unexpected (a bug, or storage disabled): still say something the voter can act on.
  console.error(error);
  problem('unknown');
});
