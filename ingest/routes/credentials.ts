/**
 * `POST /v1/credentials`: blind issuance (DESIGN §3).
 *
 *   source address limit ─► Bearer identity token ─► claims {voterHash, district, election}
 *   ─► voting open now (election-live.ts: 403 election_not_open | election_closed, 503 election_paused)
 *   ─► token limit ─► an identical request answered before? ─► its stored signature, 200
 *   ─► roll: HGET roll:{region}:election voterHash == district
 *   ─► ledger.record(issuance {voterHash, blindedHash})
 *        created / repeated ─► blind-sign (pool) ─► 200 (raw RSA is deterministic: a retry
 *                              with the same blinded message gets the very same signature)
 *        409 credential_already_issued | checked_in_on_paper (the member was checked in at a
 *        paper polling station: one member, one channel) | 503 unavailable / rebuilding
 *
 * The issuance is in the log, read back and first for this voter before the
 * signature is computed, so no signature leaves for a voter the log does not
 * hold, and a refused request costs no private-key operation. The signature
 * is then kept (limits/signature-cache.ts) so an identical retry costs a
 * Redis GET, not a private-key operation. Limits (limits/rate-limiter.ts):
 * the address one before the token is verified (an unauthenticated flood
 * costs no verification beyond it), the token one right after; both answer
 * `429 rate_limited` with the wait in `Retry-After`.
 */
import { createHash } from 'node:crypto';
import type { RateLimit } from '../../common/config.js';
import { type IssuanceRecord, minuteBucket, RECORD_VERSION } from '../../common/records.js';
import { rollKey } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { isBlindedMessageInRange } from '../crypto/blind-rsa.js';
import { IngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { issuanceEntry } from '../ledger/entries.js';
import { parseBody, validateCredentialRequest } from '../schemas.js';
import { bearerClaims } from './bearer.js';
import { assertOnRoll } from './roll-check.js';

export function credentialsRoute(ctx: IngestContext): RouteSpec {
  const {
    election,
    districts,
    moduli,
    index,
    ledger,
    crypto,
    verifyToken,
    limiter,
    signatures,
    metrics,
    live,
  } = ctx;
  const limits = ctx.config.ingest.issueLimits;

  async function limit(kind: 'token' | 'address', id: string, rate: RateLimit): Promise<void> {
    const waitMs = await limiter.take(kind, id, rate);
    if (waitMs <= 0) return;
    metrics.rateLimited.inc({ limit: kind });
    throw new IngestError('rate_limited', undefined, { retryAfterSec: Math.ceil(waitMs / 1000) });
  }
  const rollKeys = new Map(election.config.regions.map((r) => [r.code, rollKey(election.id, r.code)]));

  async function handle(ex: Exchange): Promise<Reply> {
    const authorization = ex.authorization;
    const request = parseBody(ex.body, validateCredentialRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    if (limits.address !== null) await limit('address', ex.address, limits.address);
    const claims = await bearerClaims(authorization, verifyToken);
    if (claims.election !== election.id) throw new IngestError('unauthorized');
    const now = Date.now();
    live.assertVoting(now);
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
    const blindedHash = createHash('sha256').update(blinded).digest('hex');
    const [, stored] = await Promise.all([
      limit('token', claims.voterHash, limits.token),
      signatures.get(claims.voterHash, blindedHash),
    ]);
    metrics.signatureReuse.inc({ result: stored === null ? 'miss' : 'hit' });
    // Stored only after the log confirmed this very issuance: answering from it is answering a `same`.
    if (stored !== null) return signed(stored, plan.id);

    // Full now: refuse before the issuance is recorded (it is re-checked when the signature is queued).
    if (crypto.full) {
      metrics.cryptoQueueFull.inc();
      throw new IngestError('overloaded');
    }
    await assertOnRoll(index, rollKeys.get(plan.region)!, claims.voterHash, plan);

    const record: IssuanceRecord = {
      v: RECORD_VERSION,
      election: election.id,
      region: plan.region,
      district: plan.id,
      voterHash: claims.voterHash,
      blindedHash,
      channel: 'online',
      bucket: minuteBucket(now),
    };
    await ledger.record(issuanceEntry(record, plan.partitions));
    const signature = await crypto.blindSign(plan.id, blinded);
    // Not awaited: the voter's answer does not wait for the cache; a failed put costs a later recomputation.
    signatures
      .put(claims.voterHash, blindedHash, signature)
      .catch(() => metrics.signatureReuse.inc({ result: 'put_failed' }));
    return signed(signature, plan.id);
  }

  function signed(signature: Buffer, district: string): Reply {
    return json('200 OK', { blindSignature: signature.toString('base64url'), district });
  }

  return {
    name: 'credentials',
    method: 'post',
    pattern: '/v1/credentials',
    params: 0,
    body: true,
    auth: true,
    address: true,
    conditional: false,
    admission: true,
    padTo: null,
    handle,
  };
}
