/**
 * `POST /v1/paper/check-ins`: an official checks a member in at a special
 * polling station (docs/paper.md). The check-in is an issuance through the
 * one ledger, so the channel rule — one member, one ballot, one channel — is
 * the ledger's "first record in the log wins":
 *
 *   Bearer staff token ─► role official, bound to its precinct (else 403 token_wrong_role)
 *   ─► official limit ─► precinct window (else 403 precinct_closed, unless Ledger.progress finds
 *      this very check-in: done ─► 200 repeated, a resend after closing; begun ─► record it;
 *      an index still rebuilding ─► 503 rebuilding)
 *   ─► voterHash = HMAC(pepper, member id) ─► roll: the precinct's district (else 403 not_eligible)
 *   ─► ledger.record(issuance {channel paper, precinct, blindedHash paper:<precinct>})
 *        created ─► 200 checked_in   (in Kafka and read back first: the official hands a ballot)
 *        repeated ─► 200 repeated    (this precinct checked the member in before: a resend)
 *        409 already_issued_online | already_checked_in (another precinct) | 503 retry
 *
 * Limited per official, not per address: a station is one address with
 * several officials. The member id is hashed at once and never logged; the
 * answer names only the precinct and district, nothing of the member.
 */

import { type IssuanceRecord, minuteBucket, paperCheckInHash, RECORD_VERSION } from '../../common/records.js';
import type { PaperPrecinct } from '../../election/config-schema.js';
import { rollKey, voterHash } from '../../election/index.js';
import type { DistrictPlan } from '../ballot-rules.js';
import type { IngestContext } from '../context.js';
import { IngestError, isIngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { issuanceEntry } from '../ledger/entries.js';
import { parseBody, validatePaperCheckInRequest } from '../schemas.js';
import { bearerClaims } from './bearer.js';
import { assertOnRoll } from './roll-check.js';

export type CheckInStatus = 'checked_in' | 'repeated';

/** The 200 answer: the official hands a ballot (or already did, for a resend). */
export interface CheckedIn {
  readonly status: CheckInStatus;
  readonly precinct: string;
  readonly district: string;
}

interface Station {
  readonly precinct: PaperPrecinct;
  readonly plan: DistrictPlan;
  readonly rollKey: string;
  readonly opensAt: number;
  readonly closesAt: number;
}

export function paperCheckInsRoute(ctx: IngestContext): RouteSpec {
  const { election, districts, index, ledger, verifyStaffToken, limiter, metrics, keys } = ctx;
  const limit = ctx.config.ingest.paperOfficialLimit;
  const stations = new Map<string, Station>();
  for (const precinct of election.config.paperPrecincts) {
    const plan = districts.get(precinct.district)!; // validate.ts: a precinct's district exists
    stations.set(precinct.id, {
      precinct,
      plan,
      rollKey: rollKey(election.id, plan.region),
      opensAt: Date.parse(precinct.opens),
      closesAt: Date.parse(precinct.closes),
    });
  }

  async function checkIn(ex: Exchange): Promise<CheckedIn> {
    const request = parseBody(ex.body, validatePaperCheckInRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const staff = await bearerClaims(ex.authorization, verifyStaffToken);
    const station = staff.precinct === null ? undefined : stations.get(staff.precinct);
    if (staff.role !== 'official' || station === undefined) {
      throw new IngestError('token_wrong_role', 'Only a polling-station official checks members in.');
    }
    const waitMs = await limiter.take('official', staff.id, limit);
    if (waitMs > 0) {
      metrics.rateLimited.inc({ limit: 'official' });
      throw new IngestError('rate_limited', undefined, { retryAfterSec: Math.ceil(waitMs / 1000) });
    }
    const now = Date.now();
    const { plan } = station;
    const hash = voterHash(keys.pepper, request.memberId);
    const checkInHash = paperCheckInHash(station.precinct.id);
    const record: IssuanceRecord = {
      v: RECORD_VERSION,
      election: election.id,
      region: plan.region,
      district: plan.id,
      voterHash: hash,
      blindedHash: checkInHash,
      channel: 'paper',
      bucket: minuteBucket(now),
      precinct: station.precinct.id,
    };
    const entry = issuanceEntry(record, plan.partitions);
    if (now < station.opensAt || now >= station.closesAt) {
      // A resend after closing of a check-in made before it (its answer lost, an offline queue
      // drained late): the log may already hold it, so "not recorded" would be false.
      const progress = await ledger.progress(entry);
      if (progress === 'done')
        return { status: 'repeated', precinct: station.precinct.id, district: plan.id };
      if (progress === 'none') throw new IngestError('precinct_closed');
      // 'begun': a send of it began before the close and may be in the log: finish recording it.
    }

    await assertOnRoll(
      index,
      station.rollKey,
      hash,
      plan,
      'The member is not on the roll of this station’s district.',
    );
    const recorded = await ledger.record(entry);
    const status: CheckInStatus = recorded === 'created' ? 'checked_in' : 'repeated';
    return { status, precinct: station.precinct.id, district: plan.id };
  }

  async function handle(ex: Exchange): Promise<Reply> {
    try {
      const answer = await checkIn(ex);
      metrics.paperCheckIns.inc({ outcome: answer.status });
      return json('200 OK', answer);
    } catch (err) {
      metrics.paperCheckIns.inc({ outcome: isIngestError(err) ? err.code : 'error' });
      throw err;
    }
  }

  return {
    name: 'paper_check_ins',
    method: 'post',
    pattern: '/v1/paper/check-ins',
    params: 0,
    body: true,
    auth: true,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  };
}
