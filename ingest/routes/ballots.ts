/**
 * `POST /v1/ballots`: anonymous casting (DESIGN §3).
 *
 *   validate ─► voting open now (election-live.ts: 403 election_not_open | election_closed,
 *   503 election_paused) ─► selections fit the district, its candidates standing now
 *   (422 invalid_selection | candidate_removed | candidate_withdrawn) ─► PSS-verify credential (inline)
 *   ─► ballotId = base32(SHA-256(message))[0..26], ballotHash
 *   ─► ledger.record(ballot) ─► created 201 | repeated 200 (same receipt)
 *                               409 credential_already_used | 503 unavailable / rebuilding
 *
 * Re-voting (config `revoting`): a request may carry `rev` > 0; the ledger
 * records it when it is higher than the credential's recorded revision, and
 * the receipt stays the credential's (one receipt per credential: it says
 * whether the credential's highest revision is counted, not which one).
 *
 * Every answer is padded to CAST_BODY_BYTES (size is a side channel).
 *
 * The credential is verified on the event loop, not on the crypto pool: a
 * 2048-bit PSS verify costs ~30 µs of CPU here, less than handing a task to a
 * worker thread and back (measured in docs/capacity.md), so the pool would
 * only add CPU and a queue. The pool keeps the private-key operations.
 */
import { createHash } from 'node:crypto';
import { ballotIdOf, formatReceipt } from '../../common/ballot-id.js';
import { type BallotRecord, castBucket, RECORD_VERSION } from '../../common/records.js';
import { canonicalSelections } from '../ballot-rules.js';
import type { IngestContext } from '../context.js';
import { verifyCredential } from '../crypto/blind-rsa.js';
import { IngestError } from '../errors.js';
import type { Exchange, Reply } from '../http/exchange.js';
import { json } from '../http/exchange.js';
import { CAST_BODY_BYTES, padJson } from '../http/fixed-length.js';
import type { RouteSpec } from '../http/router.js';
import { ballotEntry } from '../ledger/entries.js';
import { parseBody, validateBallotRequest } from '../schemas.js';

/** A prepared message is a 32-byte prefix plus at least one byte of message (RFC 9474 §4.1). */
const MIN_MESSAGE_BYTES = 33;

export function ballotsRoute(ctx: IngestContext): RouteSpec {
  const { election, districts, ledger, keys, live } = ctx;

  function votingRefusal(now: number): IngestError | null {
    try {
      live.assertVoting(now);
      return null;
    } catch (err) {
      if (err instanceof IngestError) return err;
      throw err;
    }
  }

  async function handle(ex: Exchange): Promise<Reply> {
    const request = parseBody(ex.body, validateBallotRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const now = Date.now();
    const plan = districts.get(request.district);
    if (plan === undefined) throw new IngestError('invalid_credential', 'Unknown district.');
    const { rows: selections, notStanding } = canonicalSelections(plan, request.selections, live.candidates);
    const message = Buffer.from(request.credential.message, 'base64url');
    const signature = Buffer.from(request.credential.signature, 'base64url');
    if (message.length < MIN_MESSAGE_BYTES) throw new IngestError('invalid_credential');
    const rev = request.rev ?? 0;
    if (rev > 0 && !election.revoting) {
      throw new IngestError('bad_request', 'This election does not allow re-voting: rev must be 0.');
    }

    const ballotId = ballotIdOf(message);
    const ballotHash = createHash('sha256')
      .update(JSON.stringify([election.id, plan.id, ballotId, selections]))
      .digest('hex');
    const record: BallotRecord = {
      v: RECORD_VERSION,
      election: election.id,
      region: plan.region,
      district: plan.id,
      ballotId,
      ballotHash,
      rev,
      bucket: castBucket(now, election.castBucketSec),
      selections,
    };
    const entry = ballotEntry(record, plan.partitions);
    const body = padJson({ receipt: formatReceipt(ballotId), ballotId }, CAST_BODY_BYTES);
    const refusal = votingRefusal(now) ?? notStanding;
    if (refusal !== null) {
      // A resend, after the close or the candidate's removal, of a ballot the log took before
      // it (its answer lost): refusing it would tell the voter a counted ballot was not taken.
      // Safe before the signature check: the index holds this very record only if it verified then.
      if (await ledger.holds(entry)) return json('200 OK', body);
      throw refusal;
    }
    const districtKey = keys.districts.get(plan.id);
    if (districtKey === undefined || !verifyCredential(districtKey.publicKey, message, signature)) {
      throw new IngestError('invalid_credential');
    }
    const outcome = await ledger.record(entry);
    return json(outcome === 'created' ? '201 Created' : '200 OK', body);
  }

  return {
    name: 'ballots',
    method: 'post',
    pattern: '/v1/ballots',
    params: 0,
    body: true,
    auth: false,
    conditional: false,
    admission: true,
    padTo: CAST_BODY_BYTES,
    handle,
  };
}
