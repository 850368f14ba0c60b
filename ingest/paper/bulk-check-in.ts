/**
 * Bulk import of a station's check-in list (`npm run paper -- check-in`):
 * member ids sent to `POST /v1/paper/check-ins` in file order, a few at a
 * time, each answer reported for its line in file order.
 *
 * - Idempotent: the ledger answers a member this precinct already checked in
 *   `repeated`, so a list can be sent again after any failure.
 * - Retriable answers (503, 429, a dropped connection) are sent again after
 *   `Retry-After` (or a growing pause), so a busy service delays the import
 *   rather than failing lines.
 * - A sign-in refused (401, token_wrong_role) would refuse every line: the
 *   lines not yet sent are reported `not_sent` instead of being tried.
 */
import { ERROR_TABLE, type ErrorCode } from '../errors.js';
import { TOKEN_CODES } from '../routes/bearer.js';

/** One member id of the list and where it stands in the file (1-based). */
export interface ListLine {
  readonly line: number;
  readonly memberId: string;
}

/** A line's final outcome: checked_in, repeated, a refusal code, or not_sent / gave_up. */
export interface LineResult extends ListLine {
  readonly outcome: string;
  /** The station's district, on checked_in / repeated. */
  readonly detail: string;
}

export const SUCCESS: ReadonlySet<string> = new Set(['checked_in', 'repeated']);

/**
 * The member ids of a list: one per line, or the first field of a CSV
 * (`member_id,...`, the header skipped). Blank lines are skipped; line
 * numbers are the file's.
 */
export function parseMemberList(text: string): ListLine[] {
  const lines: ListLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const memberId = (raw.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (memberId === '' || (i === 0 && /^member_?id$/i.test(memberId))) return;
    lines.push({ line: i + 1, memberId });
  });
  return lines;
}

export interface BulkOptions {
  /** Ingest's voting URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly election: string;
  /** The official's token. */
  readonly token: string;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Sends of one line before it is reported `gave_up`. */
  readonly maxAttempts: number;
  /** Called for each line, in file order. */
  readonly onResult: (result: LineResult) => void;
}

/** Sends every line; resolves with the results in file order. */
export async function bulkCheckIn(lines: readonly ListLine[], options: BulkOptions): Promise<LineResult[]> {
  const results: (LineResult | undefined)[] = new Array(lines.length);
  let next = 0;
  let reported = 0;
  let signInRefused = false;

  const report = (): void => {
    while (reported < lines.length && results[reported] !== undefined) {
      options.onResult(results[reported]!);
      reported++;
    }
  };

  async function worker(): Promise<void> {
    while (next < lines.length) {
      const i = next++;
      const line = lines[i]!;
      results[i] = signInRefused
        ? { ...line, outcome: 'not_sent', detail: 'the sign-in was refused' }
        : await sendLine(line, options);
      if (TOKEN_CODES.has(results[i]!.outcome)) signInRefused = true;
      report();
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return results as LineResult[];
}

async function sendLine(line: ListLine, options: BulkOptions): Promise<LineResult> {
  let pauseMs = 250;
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let body: { status?: string; district?: string; error?: { code?: string; message?: string } } = {};
    let retryAfterSec: number | null = null;
    try {
      const res = await fetch(`${options.url}/v1/paper/check-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify({ election: options.election, memberId: line.memberId }),
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      const header = res.headers.get('retry-after');
      retryAfterSec = header === null ? null : Number(header);
      body = (await res.json().catch(() => ({}))) as typeof body;
    } catch {
      // No answer (connection refused or dropped, timeout): unknown, so sent again; a resend is safe.
    }
    if (status === 200) {
      return { ...line, outcome: body.status ?? 'checked_in', detail: body.district ?? '' };
    }
    const code = body.error?.code;
    // No answer is unknown, so sent again; an answer is retried when the catalogue says it may pass later.
    const retriable =
      status === 0 || (code !== undefined && code in ERROR_TABLE && ERROR_TABLE[code as ErrorCode].retriable);
    if (!retriable) {
      return { ...line, outcome: body.error?.code ?? `http_${status}`, detail: body.error?.message ?? '' };
    }
    if (attempt >= options.maxAttempts) {
      return { ...line, outcome: 'gave_up', detail: body.error?.code ?? 'no answer' };
    }
    const waitMs = retryAfterSec !== null && Number.isFinite(retryAfterSec) ? retryAfterSec * 1000 : pauseMs;
    await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 30_000)));
    pauseMs = Math.min(pauseMs * 2, 5_000);
  }
}
