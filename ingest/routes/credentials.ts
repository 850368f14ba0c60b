/**
 * `POST /v1/credentials`: blind issuance (DESIGN §3).
 *
 *   Bearer identity token ─► claims {voterHash, district, election}
 *   ─► roll: HGET roll:{region}:election voterHash == district
 *   ─► voter:{region}:election:voterHash  SET pending:<blindedHash>:<s> (Lua)
 *        new/retry ─► blind-sign (pool) ∥ produce issuance (acks=all) ─► mark issued ─► 200
 *        done      ─► recompute the (deterministic) blind signature ─► 200
 *        conflict  ─► 409 credential_already_issued
 *
 * The issuance event is acknowledged by Kafka before the signature leaves.
 */
import { createHash } from 'node:crypto';
import { type IssuanceRecord, minuteBucket, RECORD_VERSION, TOPICS } from '../../common/records.js';
import { isElectionError, rollKey } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { isBlindedMessageInRange } from '../crypto/blind-rsa.js';
import { voterKey } from '../dedup/dedup-store.js';
import { IngestError, loggableError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { parseBody, validateCredentialRequest } from '../schemas.js';
import { pickPartition } from './ballots.js';

const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;

export function credentialsRoute(ctx: IngestContext): RouteSpec {
  const { election, districts, moduli, dedup, records, crypto, verifyToken } = ctx;
  const rollKeys = new Map(election.config.regions.map((r) => [r.code, rollKey(election.id, r.code)]));

  async function claimsOf(authorization: string) {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) throw new IngestError('unauthorized', 'A Bearer identity token is required.');
    try {
      return await verifyToken(token);
    } catch (cause) {
      if (isElectionError(cause, 'unauthorized')) throw new IngestError('unauthorized', undefined, { cause });
      throw cause;
    }
  }

  async function handle(ex: Exchange): Promise<Reply> {
    const authorization = ex.authorization;
    const request = parseBody(ex.body, validateCredentialRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const claims = await claimsOf(authorization);
    if (claims.election !== election.id) throw new IngestError('unauthorized');
    const now = Date.now();
    if (!election.isOpen(now)) throw new IngestError('election_closed');
    const plan = districts.get(claims.district);
    const modulus = moduli.get(claims.district);
    if (plan === undefined || modulus === undefined) throw new IngestError('not_eligible');
    const blinded = Buffer.from(request.blindedMessage, 'base64url');
    if (!isBlindedMessageInRange(blinded, modulus)) {
      throw new IngestError(
        'bad_request',
        `blindedMessage must be ${modulus.length} bytes, below the modulus.`,
      );
    }
    const onRoll = await dedup.rollDistrict(rollKeys.get(plan.region)!, claims.voterHash);
    if (onRoll !== plan.id) throw new IngestError('not_eligible');

    const blindedHash = createHash('sha256').update(blinded).digest('hex');
    const key = voterKey(plan.region, election.id, claims.voterHash);
    const begun = await dedup.begin(key, blindedHash, 'issued');
    if (begun.status === 'conflict') throw new IngestError('credential_already_issued');
    if (begun.status === 'busy') throw new IngestError('unavailable', 'Issuance in progress; retry shortly.');

    let signature: Buffer;
    if (begun.status === 'done') {
      // Raw RSA is deterministic: recomputing returns the very signature issued before.
      signature = await crypto.blindSign(plan.id, blinded);
    } else {
      const record: IssuanceRecord = {
        v: RECORD_VERSION,
        election: election.id,
        region: plan.region,
        district: plan.id,
        voterHash: claims.voterHash,
        channel: 'online',
        bucket: minuteBucket(now),
      };
      const partition = pickPartition(plan.partitions, claims.voterHash);
      const [signed, produced] = await Promise.allSettled([
        crypto.blindSign(plan.id, blinded),
        records.append(TOPICS.issuance, partition, JSON.stringify(record), record.bucket * 1000),
      ]);
      if (produced.status === 'rejected') {
        await dedup.abort(key, begun.pending).catch((err: unknown) => {
          ctx.log.warn(
            { err: loggableError(err), code: 'SAYLAU_ERR_DEDUP_ABORT' },
            'could not release a pending issuance',
          );
        });
        throw new IngestError('unavailable', 'The issuance could not be recorded; retry shortly.', {
          cause: produced.reason,
        });
      }
      await dedup.commit(key, blindedHash, 'issued').catch((err: unknown) => {
        ctx.log.warn(
          { err: loggableError(err), code: 'SAYLAU_ERR_DEDUP_COMMIT' },
          'could not mark a credential issued',
        );
      });
      if (signed.status === 'rejected') throw signed.reason;
      signature = signed.value;
    }
    return json('200 OK', { blindSignature: signature.toString('base64url'), district: plan.id });
  }

  return {
    name: 'credentials',
    method: 'post',
    pattern: '/v1/credentials',
    params: 0,
    body: true,
    auth: true,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  };
}
