/**
 * `POST /v1/reports`: anyone signed in files a violation report (issue 16)
 * and gets a tracking number to follow it by.
 *
 *   shape (strict: categories fixed, text ≤ 2000, attachment ≤ 300)
 *   ─► Bearer token: a voter's, else a staff token of any role (filedAs = voter | the role)
 *   ─► per-sign-in limit (429) ─► region of the election, district of that region (422 report_invalid)
 *   ─► ledger.record(report {id: R-XXXX-XXXX, …, filedAs, bucket}) to `reports`
 *   ─► 201 {tracking, status: 'open'}   (in Kafka and read back first)
 *
 * The record names no one: not the voter hash, not the staff id, not the
 * address; only the kind of sign-in, and the election's cast bucket for a
 * time (common/records.ts). The limit's Redis key is an HMAC of the sign-in
 * under the host secret, as the issuance limits' are. The tracking number is
 * random: a resent request is a second report (the committee sees both), and
 * the rare number another report drew first is a 503 whose retry draws anew
 * (ingest/ledger/ledger.ts `conflictCode`). Filing is open in every phase:
 * violations are reported after closing too.
 */
import {
  castBucket,
  newTrackingNumber,
  RECORD_VERSION,
  REPORT_KINDS,
  type ReportRecord,
} from '../../common/records.js';
import type { IngestContext } from '../context.js';
import { IngestError, isIngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { reportEntry } from '../ledger/entries.js';
import { parseBody, validateReportRequest } from '../schemas.js';
import { bearerClaims } from './bearer.js';

/** Who is filing: the kind of sign-in (recorded) and whom the limit counts (never recorded). */
interface Filer {
  readonly filedAs: string;
  readonly limitId: string;
}

export function reportsRoute(ctx: IngestContext): RouteSpec {
  const { election, ledger, limiter, metrics } = ctx;
  const limit = ctx.config.ingest.reportLimit;

  /** A voter's token, else a staff token (the voter verifier refuses those as token_wrong_role). */
  async function filer(ex: Exchange): Promise<Filer> {
    try {
      const voter = await bearerClaims(ex.authorization, ctx.verifyToken);
      return { filedAs: 'voter', limitId: `voter:${voter.voterHash}` };
    } catch (err) {
      if (!isIngestError(err) || err.code !== 'token_wrong_role') throw err;
    }
    const staff = await bearerClaims(ex.authorization, ctx.verifyStaffToken);
    return { filedAs: staff.role, limitId: `${staff.role}:${staff.id}` };
  }

  async function file(ex: Exchange, who: { filedAs: string }): Promise<ReportRecord> {
    const request = parseBody(ex.body, validateReportRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const { filedAs, limitId } = await filer(ex);
    who.filedAs = filedAs;
    const waitMs = await limiter.take('report', limitId, limit);
    if (waitMs > 0) {
      metrics.rateLimited.inc({ limit: 'report' });
      throw new IngestError(
        'rate_limited',
        'Too many reports from this sign-in; retry after the delay given.',
        {
          retryAfterSec: Math.ceil(waitMs / 1000),
        },
      );
    }
    if (election.region(request.region) === undefined) {
      throw new IngestError('report_invalid', `region: ${request.region} is not a region of this election.`);
    }
    const district = request.district ?? '';
    if (district !== '' && election.district(district)?.region !== request.region) {
      throw new IngestError(
        'report_invalid',
        `district: ${district} is not a district of ${request.region}.`,
      );
    }
    const record: ReportRecord = {
      v: RECORD_VERSION,
      kind: REPORT_KINDS.report,
      id: newTrackingNumber(),
      election: election.id,
      region: request.region,
      district,
      category: request.category,
      text: request.text,
      attachment: request.attachment ?? '',
      filedAs,
      bucket: castBucket(Date.now(), election.castBucketSec),
    };
    await ledger.record(reportEntry(record, election.partitionsFor(record.region)));
    return record;
  }

  async function handle(ex: Exchange): Promise<Reply> {
    const who = { filedAs: 'none' };
    try {
      const record = await file(ex, who);
      metrics.reports.inc({ outcome: 'filed', filed_as: record.filedAs });
      return json('201 Created', { tracking: record.id, status: 'open' });
    } catch (err) {
      metrics.reports.inc({ outcome: isIngestError(err) ? err.code : 'error', filed_as: who.filedAs });
      throw err;
    }
  }

  return {
    name: 'reports',
    method: 'post',
    pattern: '/v1/reports',
    params: 0,
    body: true,
    auth: true,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  };
}
