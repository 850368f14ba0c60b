/**
 * `POST /v1/ballots`: anonymous casting (DESIGN §3).
 *
 *   validate ─► selections fit the district ─► PSS-verify credential (inline)
 *   ─► ballotId = base32(SHA-256(message))[0..26]
 *   ─► cred:{region}:election:ballotId   SET pending:<ballotHash>:<s> (Lua, NX-like)
 *        new/retry ─► produce to `ballots` (acks=all) ─► ok: mark cast:<ballotHash> → 201/200
 *                                                   └─► failed: compare-and-delete → 503
 *        done      ─► 200, same receipt (identical retry)
 *        conflict  ─► 409 credential_already_used
 *        busy      ─► 503 (another process is producing this very ballot; retry)
 *
 * Identical concurrent requests in one process share one attempt. Every
 * answer is padded to CAST_BODY_BYTES (size is a side channel).
 *
 * The credential is verified on the event loop, not on the crypto pool: a
 * 2048-bit PSS verify costs ~30 µs of CPU here, less than handing a task to a
 * worker thread and back (measured in docs/capacity.md), so the pool would
 * only add CPU and a queue. The pool keeps the private-key operations.
 */
import { createHash } from 'node:crypto';
import { ballotIdOf, formatReceipt } from '../../common/ballot-id.js';
import { type BallotRecord, minuteBucket, RECORD_VERSION, TOPICS } from '../../common/records.js';
import { checkSelections, type DistrictPlan } from '../ballot-rules.js';
import type { IngestContext } from '../context.js';
import { verifyCredential } from '../crypto/blind-rsa.js';
import { credKey } from '../dedup/dedup-store.js';
import { IngestError, loggableError } from '../errors.js';
import type { Exchange, Reply } from '../http/exchange.js';
import { json } from '../http/exchange.js';
import { CAST_BODY_BYTES, padJson } from '../http/fixed-length.js';
import type { RouteSpec } from '../http/router.js';
import { parseBody, validateBallotRequest } from '../schemas.js';

/** A prepared message is a 32-byte prefix plus at least one byte of message (RFC 9474 §4.1). */
const MIN_MESSAGE_BYTES = 33;

type Outcome = 'created' | 'repeated';

export function ballotsRoute(ctx: IngestContext): RouteSpec {
  const { election, districts, dedup, records, keys } = ctx;
  /** In-process coalescing of identical attempts: `<credKey> <ballotHash>` → outcome. */
  const attempts = new Map<string, Promise<Outcome>>();

  async function attempt(plan: DistrictPlan, key: string, record: BallotRecord): Promise<Outcome> {
    const begun = await dedup.begin(key, record.ballotHash, 'cast');
    switch (begun.status) {
      case 'done':
        return 'repeated';
      case 'conflict':
        throw new IngestError('credential_already_used');
      case 'busy':
        throw new IngestError('unavailable', 'This ballot is being recorded; retry shortly.');
      default:
        break;
    }
    const partition = pickPartition(plan.partitions, record.ballotId);
    try {
      await records.append(TOPICS.ballots, partition, JSON.stringify(record), record.bucket * 1000);
    } catch (cause) {
      // Not acknowledged: free the credential, but only if it still holds this attempt.
      await dedup.abort(key, begun.pending).catch((err: unknown) => {
        ctx.log.warn(
          { err: loggableError(err), code: 'SAYLAU_ERR_DEDUP_ABORT' },
          'could not release a pending credential',
        );
      });
      throw new IngestError('unavailable', 'The ballot could not be recorded; retry shortly.', { cause });
    }
    // Kafka has it: the ballot counts even if marking it cast fails (a stale pending key
    // lets an identical retry re-produce; the duplicate shares the ballotId).
    await dedup.commit(key, record.ballotHash, 'cast').catch((err: unknown) => {
      ctx.log.warn(
        { err: loggableError(err), code: 'SAYLAU_ERR_DEDUP_COMMIT' },
        'could not mark a ballot cast',
      );
    });
    return begun.status === 'new' ? 'created' : 'repeated';
  }

  async function handle(ex: Exchange): Promise<Reply> {
    const request = parseBody(ex.body, validateBallotRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const now = Date.now();
    if (!election.isOpen(now)) throw new IngestError('election_closed');
    const plan = districts.get(request.district);
    if (plan === undefined) throw new IngestError('invalid_credential', 'Unknown district.');
    const selections = checkSelections(plan, request.selections);
    const message = Buffer.from(request.credential.message, 'base64url');
    const signature = Buffer.from(request.credential.signature, 'base64url');
    if (message.length < MIN_MESSAGE_BYTES) throw new IngestError('invalid_credential');
    const districtKey = keys.districts.get(plan.id);
    if (districtKey === undefined || !verifyCredential(districtKey.publicKey, message, signature)) {
      throw new IngestError('invalid_credential');
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
      rev: 0,
      bucket: minuteBucket(now),
      selections,
    };
    const key = credKey(plan.region, election.id, ballotId);
    const attemptKey = `${key} ${ballotHash}`;
    let pending = attempts.get(attemptKey);
    let follower = true;
    if (pending === undefined) {
      follower = false;
      pending = attempt(plan, key, record).finally(() => attempts.delete(attemptKey));
      attempts.set(attemptKey, pending);
    }
    const outcome = await pending;
    const body = padJson({ receipt: formatReceipt(ballotId), ballotId }, CAST_BODY_BYTES);
    return json(outcome === 'created' && !follower ? '201 Created' : '200 OK', body);
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

/** The region's partition for a ballot: explicit, and stable for retries of the same ballot. */
export function pickPartition(partitions: readonly number[], spreadKey: string): number {
  if (partitions.length === 1) return partitions[0]!;
  let h = 0;
  for (let i = 0; i < 8 && i < spreadKey.length; i++) h = (h * 31 + spreadKey.charCodeAt(i)) >>> 0;
  return partitions[h % partitions.length]!;
}
