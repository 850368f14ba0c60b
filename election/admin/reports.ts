/**
 * The control committee's triage of violation reports (issue 16), as plain
 * functions: the status machine, the triage record a decision becomes, and
 * what each reader may see. No I/O: `reports-book.ts` follows the `reports`
 * topic and writes the records; the admin service (election/admin/, spec §5)
 * exposes them:
 *
 *   GET  /v1/admin/reports?status=        committee: {@link committeeView} of each, full texts
 *   POST /v1/admin/reports/{id}/triage    committee: {@link triageDecision} → record → written, read back
 *   GET  /v1/admin/reports/{id}           anyone with the number: {@link publicView} (status + summary)
 *
 * The status machine:
 *
 *   open ──► investigating ──► upheld
 *     │            ▲   └─────► dismissed
 *     ├────────────┼─────────► upheld       (investigating may be skipped)
 *     └────────────┼─────────► dismissed
 *                  └── upheld | dismissed   reopened, only with a summary saying why
 *
 * A finding is not changed in place: upheld → dismissed (or back) goes
 * through investigating again, so the log and the public summary show that
 * the committee reconsidered, and why. A report never returns to `open`.
 * Only an upheld finding may name a removal (the `candidate-removed` event
 * it led to).
 *
 * Triage ids are `<report>:<n>`, n = the report's applied triage count + 1:
 * two admin processes deciding on the same state draw the same id, the first
 * in the log wins, and the other is told so (`admin_triage_conflict`) instead
 * of silently stacking a second finding on a state it never saw. (Within one
 * process, reports-book.ts decides one report at a time.)
 */
import {
  RECORD_VERSION,
  REPORT_KINDS,
  type ReportRecord,
  type ReportStatus,
  type TriageRecord,
  type TriageStatus,
  triageId,
} from '../../common/records.js';
import { type ElectionState, EVENT_ID_PATTERN } from '../election-state.js';

/** Length limit of a public summary: a paragraph on the report's page. */
export const SUMMARY_MAX = 1000;

/**
 * The refusals of the reports endpoints, with their HTTP status: the admin
 * service's catalogue (election/admin/errors.ts) takes them as they are.
 */
export const REPORT_REFUSALS = {
  admin_report_not_found: { status: '404 Not Found', message: 'No report has this tracking number.' },
  admin_triage_invalid: {
    status: '422 Unprocessable Entity',
    message: 'This triage does not follow from the report’s status.',
  },
  admin_triage_conflict: {
    status: '409 Conflict',
    message: 'Another committee member triaged this report meanwhile; read it again and decide.',
  },
  admin_triage_unconfirmed: {
    status: '503 Service Unavailable',
    message: 'The triage could not be confirmed in the log; send it again.',
  },
} as const;

export type ReportRefusalCode = keyof typeof REPORT_REFUSALS;

export interface ReportRefusal {
  readonly refused: ReportRefusalCode;
  readonly message: string;
}

/** A report as the book holds it: the record and its applied triage, in log order. */
export interface ReportEntry {
  readonly record: ReportRecord;
  /** The partition the report is in (its triage goes there too). */
  readonly partition: number;
  readonly triage: readonly TriageRecord[];
}

/** What a committee member asks for. */
export interface TriageRequest {
  readonly status: TriageStatus;
  readonly summary?: string;
  /** Upheld only: the `candidate-removed` event id. */
  readonly removal?: string;
}

export function statusOf(entry: ReportEntry): ReportStatus {
  return entry.triage.at(-1)?.status ?? 'open';
}

/** The public summary: the latest one the committee wrote ('' until then). */
export function summaryOf(entry: ReportEntry): string {
  for (let i = entry.triage.length - 1; i >= 0; i--) {
    const summary = entry.triage[i]!.summary;
    if (summary !== '') return summary;
  }
  return '';
}

/** Why `from` → `to` (with this summary) is not allowed, or null. */
export function transitionProblem(from: ReportStatus, to: TriageStatus, summary: string): string | null {
  if (from === to) return `the report is already ${from}`;
  if (from === 'open' || from === 'investigating') return null;
  if (to !== 'investigating')
    return `a finding (${from}) is not changed in place: reopen it (investigating) first`;
  if (summary === '') return `reopening a ${from} report needs a summary saying why`;
  return null;
}

/** The shape checks of a request that need no state: a summary's length, a removal's place and form. */
function requestProblem(request: TriageRequest): string | null {
  const summary = request.summary ?? '';
  if (summary.length > SUMMARY_MAX) return `summary: longer than ${SUMMARY_MAX} characters`;
  const removal = request.removal ?? '';
  if (removal === '') return null;
  if (request.status !== 'upheld') return 'removal: only an upheld report names a removal';
  if (!EVENT_ID_PATTERN.test(removal)) return `removal: ${JSON.stringify(removal)} is not an event id (E-…)`;
  return null;
}

/**
 * Whether the election's applied events hold `candidate-removed` event `id`:
 * the `isRemoval` of {@link triageDecision}, from the admin service's follower.
 */
export function removalIn(state: ElectionState): (id: string) => boolean {
  return (id) => state.events.some((e) => e.id === id && e.type === 'candidate-removed');
}

/**
 * The triage record a committee member's decision becomes, or the refusal.
 * `isRemoval(id)` says whether the election's event stream holds that
 * `candidate-removed` event ({@link removalIn}).
 */
export function triageDecision(
  entry: ReportEntry | undefined,
  request: TriageRequest,
  by: string,
  at: number,
  isRemoval: (eventId: string) => boolean,
): TriageRecord | ReportRefusal {
  if (entry === undefined) return refusal('admin_report_not_found');
  const summary = request.summary ?? '';
  const problem =
    requestProblem(request) ??
    (request.removal && !isRemoval(request.removal)
      ? `removal: no candidate-removed event ${request.removal} in the election's events`
      : null) ??
    transitionProblem(statusOf(entry), request.status, summary);
  if (problem !== null) return refusal('admin_triage_invalid', problem);
  const report = entry.record;
  return {
    v: RECORD_VERSION,
    kind: REPORT_KINDS.triage,
    id: triageId(report.id, entry.triage.length + 1),
    report: report.id,
    election: report.election,
    region: report.region,
    status: request.status,
    summary,
    removal: request.removal ?? '',
    by,
    at,
  };
}

/**
 * Whether a triage record from the log applies to `entry`: it must be the
 * report's next id and a transition the machine allows. The book skips one
 * that does not (a writer that lost a race, a hand-made record): the log
 * cannot take it back, and it must not decide the status.
 */
export function applies(entry: ReportEntry, t: TriageRecord): boolean {
  return (
    t.id === triageId(entry.record.id, entry.triage.length + 1) &&
    transitionProblem(statusOf(entry), t.status, t.summary) === null
  );
}

/** Whether `t` is the same decision as the report's latest (a resent request): answered, not refused. */
export function isRepeat(entry: ReportEntry, request: TriageRequest, by: string): boolean {
  const last = entry.triage.at(-1);
  return (
    last !== undefined &&
    last.status === request.status &&
    last.summary === (request.summary ?? '') &&
    last.removal === (request.removal ?? '') &&
    last.by === by
  );
}

/** What anyone holding the tracking number may see: the status and the published summary, nothing else. */
export interface PublicReportView {
  readonly tracking: string;
  readonly status: ReportStatus;
  readonly summary: string;
}

export function publicView(entry: ReportEntry): PublicReportView {
  return { tracking: entry.record.id, status: statusOf(entry), summary: summaryOf(entry) };
}

/** What the committee sees: the whole report and its history. */
export interface CommitteeReportView {
  readonly tracking: string;
  readonly status: ReportStatus;
  readonly summary: string;
  readonly region: string;
  readonly district: string;
  readonly category: string;
  readonly text: string;
  readonly attachment: string;
  readonly filedAs: string;
  /** The filing's cast bucket, Unix seconds (as coarse as the record). */
  readonly bucket: number;
  readonly triage: readonly Pick<TriageRecord, 'id' | 'status' | 'summary' | 'removal' | 'by' | 'at'>[];
}

export function committeeView(entry: ReportEntry): CommitteeReportView {
  const r = entry.record;
  return {
    tracking: r.id,
    status: statusOf(entry),
    summary: summaryOf(entry),
    region: r.region,
    district: r.district,
    category: r.category,
    text: r.text,
    attachment: r.attachment,
    filedAs: r.filedAs,
    bucket: r.bucket,
    triage: entry.triage.map(({ id, status, summary, removal, by, at }) => ({
      id,
      status,
      summary,
      removal,
      by,
      at,
    })),
  };
}

function refusal(code: ReportRefusalCode, message: string = REPORT_REFUSALS[code].message): ReportRefusal {
  return { refused: code, message };
}

export function isReportRefusal(value: unknown): value is ReportRefusal {
  return typeof value === 'object' && value !== null && 'refused' in value;
}
