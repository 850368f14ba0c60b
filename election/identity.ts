/**
 * Identity tokens (DESIGN §3): what proves to ingest which voter is asking.
 *
 * Tokens are EdDSA JWTs. The dev login issues them with the election's
 * identity key; a real member registry issues the same claims with its own
 * key, and ingest trusts whichever public keys it is configured with.
 *
 *   header  {alg: "EdDSA", kid: <RFC 7638 thumbprint of the public key>}
 *   claims  {sub: voterHash, district, election, iss, iat, exp}
 */
import type { KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import { ElectionError } from './errors.js';
import type { ElectionKeys } from './keys.js';
import type { ElectionIndex } from './load.js';
import { sampleMemberDistrict, sampleRollPlan } from './sample-roll.js';
import { voterHash } from './voter-hash.js';

/** Issuer of dev-login tokens. */
export const DEV_ISSUER = 'saylau-dev';
/** Dev tokens are short-lived: long enough to get a credential, too short to hoard. */
export const DEV_TOKEN_TTL_SEC = 600;
/** Clock skew tolerated between the registry and ingest. */
const CLOCK_TOLERANCE_SEC = 5;
const VOTER_HASH = /^[0-9a-f]{64}$/;

export interface IdentityClaims {
  /** HMAC-SHA256(pepper, member id), hex: the `sub` claim. */
  readonly voterHash: string;
  readonly district: string;
  readonly election: string;
}

export type TokenVerifier = (token: string) => Promise<IdentityClaims>;

export interface IssueDevTokenOptions {
  /** The member's district, for members not on the synthetic roll. */
  readonly district?: string;
  /** Lifetime in seconds. @default 600 */
  readonly ttlSec?: number;
  /** Issue time (Unix ms), for tests. @default Date.now() */
  readonly nowMs?: number;
}

/**
 * Signs an identity token for a member of the sample roll (or, with
 * `options.district`, any member) with the election's identity key.
 * @throws ElectionError `unknown_member` when the member is not on the roll
 */
export async function issueDevToken(
  keys: ElectionKeys,
  index: ElectionIndex,
  memberId: string,
  options: IssueDevTokenOptions = {},
): Promise<string> {
  const district = options.district ?? sampleMemberDistrict(sampleRollPlan(index), memberId);
  if (district === undefined || index.district(district) === undefined) {
    throw new ElectionError('unknown_member', `member is not on the roll of "${index.id}"`);
  }
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ district, election: index.id })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: await keyId(keys.identity.publicKey) })
    .setSubject(voterHash(keys.pepper, memberId))
    .setIssuer(DEV_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSec ?? DEV_TOKEN_TTL_SEC))
    .sign(keys.identity.privateKey);
}

/** RFC 7638 JWK thumbprint: a key id both sides compute from the public key alone. */
export async function keyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey));
}

/**
 * A verifier that accepts EdDSA tokens signed by any of `trusted` (so the dev
 * provider and a real registry can both be configured) and bound to
 * `electionId`. A token whose `kid` is the thumbprint of a trusted key goes
 * straight to that key; any other token is tried against each trusted key
 * (a handful at most).
 *
 * Every rejection is an {@link ElectionError} with code `unauthorized`; the
 * message says why (for logs), the code is all a client sees.
 */
export function createTokenVerifier(trusted: readonly KeyObject[], electionId: string): TokenVerifier {
  for (const key of trusted) {
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('trusted identity keys must be Ed25519 public keys');
    }
  }
  const byKid = Promise.all(trusted.map(async (key) => [await keyId(key), key] as const)).then(
    (e) => new Map(e),
  );

  const verifyWith = async (token: string, key: KeyObject): Promise<JWTPayload> =>
    (
      await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        requiredClaims: ['sub', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SEC,
      })
    ).payload;

  return async (token: string): Promise<IdentityClaims> => {
    let payload: JWTPayload | undefined;
    try {
      const kid = headerKid(token);
      const known = kid === undefined ? undefined : (await byKid).get(kid);
      // A registry may use its own kid scheme, so an unmatched kid falls back to trying every key.
      const candidates = known === undefined ? trusted : [known];
      for (const key of candidates) {
        try {
          payload = await verifyWith(token, key);
          break;
        } catch (err) {
          // Without a kid, a bad signature only means "not this key": try the next one.
          if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err;
        }
      }
      if (payload === undefined) throw unauthorized('token is signed by an unknown key');
    } catch (err) {
      throw toUnauthorized(err);
    }
    const { sub, district, election } = payload;
    if (election !== electionId) throw unauthorized(`token is for election ${JSON.stringify(election)}`);
    if (typeof sub !== 'string' || !VOTER_HASH.test(sub))
      throw unauthorized('token subject is not a voter hash');
    if (typeof district !== 'string' || district === '') throw unauthorized('token has no district');
    return { voterHash: sub, district, election };
  };
}

/** The `kid` of a compact JWS header, without trusting anything else in it. */
function headerKid(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) throw unauthorized('token is malformed');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
  } catch (cause) {
    throw new ElectionError('unauthorized', 'token header is malformed', { cause });
  }
  if (header === null || typeof header !== 'object') throw unauthorized('token header is malformed');
  const kid = (header as { kid?: unknown }).kid;
  return typeof kid === 'string' ? kid : undefined;
}

function unauthorized(message: string): ElectionError {
  return new ElectionError('unauthorized', message);
}

function toUnauthorized(err: unknown): ElectionError {
  if (err instanceof ElectionError) return err;
  if (err instanceof joseErrors.JWTExpired)
    return new ElectionError('unauthorized', 'token has expired', { cause: err });
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return new ElectionError('unauthorized', 'token algorithm is not EdDSA', { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new ElectionError('unauthorized', 'token signature is invalid', { cause: err });
  }
  if (err instanceof joseErrors.JOSEError) {
    return new ElectionError('unauthorized', `token rejected: ${err.message}`, { cause: err });
  }
  return new ElectionError('unauthorized', 'token rejected', { cause: err });
}
