/**
 * Identity tokens (DESIGN §3): what proves to ingest which voter is asking.
 *
 * Tokens are EdDSA JWTs from an issuer ingest is configured to trust: the
 * member registry (its public keys from a JWKS file or URL, fetched at start)
 * and, only in the demo (`DEV_LOGIN`), the dev login, which signs with its
 * own key. Each issuer is trusted for its own `iss` only, so a dev token is
 * refused wherever the dev issuer is not configured.
 *
 *   header  {alg: "EdDSA", kid: <key id in the issuer's JWKS>}
 *   claims  {iss, aud: <election id>, sub: voterHash, district, iat, exp}            a voter
 *           {iss, aud, sub: <staff id>, role: official, precinct, iat, exp}        a polling-station official
 *           {iss, aud, sub: <staff id>, role: observer, iat, exp}                  a candidate's proxy, press
 *           {iss, aud, sub: <operator id>, role: operator, iat, exp}               the commission's operator
 *           {iss, aud, sub: <member id>, role: committee, iat, exp}                the control committee
 *
 * Voter and staff tokens never stand in for each other: a voter token has no
 * `role` and its `sub` is a voter hash; a staff token must carry a known role
 * (and an official's, a precinct of the election naming that official; an
 * operator's or committee member's, an id of the config's `operators` or `committee`).
 * Staff tokens live for a shift (`staffMaxAgeSec`), not minutes.
 *
 * A token must name this election as `aud`, must not have expired, and must
 * have been issued (`iat`) at most `maxAgeSec` ago, whatever its `exp` says:
 * a token leaked or hoarded is good for minutes, not for the election.
 */

import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  exportJWK,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Config } from '../common/config.js';
import { ElectionError } from './errors.js';
import type { ElectionKeys, SigningKey } from './keys.js';
import type { ElectionIndex } from './load.js';
import { sampleMemberDistrict, sampleRollPlan } from './sample-roll.js';
import { voterHash } from './voter-hash.js';

/** Issuer (`iss`) of dev-login tokens; trusted only while the dev login is on. */
export const DEV_ISSUER = 'saylau-dev';
/** Dev tokens are short-lived: long enough to get a credential, too short to hoard. */
export const DEV_TOKEN_TTL_SEC = 600;
/** A polling station's day: staff sign in once per shift. */
export const DEV_STAFF_TOKEN_TTL_SEC = 14 * 3600;
/** Clock skew tolerated between the registry and ingest. */
const CLOCK_TOLERANCE_SEC = 5;
/** How long a remote JWKS fetch may take, at start and on a key rotation. */
const JWKS_TIMEOUT_MS = 5_000;
const ALGORITHMS = ['EdDSA'];
const VOTER_HASH = /^[0-9a-f]{64}$/;

export interface IdentityClaims {
  /** HMAC-SHA256(pepper, member id), hex: the `sub` claim. */
  readonly voterHash: string;
  readonly district: string;
  /** The token's audience, checked to be this election. */
  readonly election: string;
}

export type TokenVerifier = (token: string) => Promise<IdentityClaims>;

export const STAFF_ROLES = ['official', 'observer', 'operator', 'committee'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Who a staff token says is asking. */
export interface StaffClaims {
  readonly role: StaffRole;
  /** The `sub` claim: an official's id (`paperPrecincts[].officials[].id`), an operator's, a committee member's or an observer's. */
  readonly id: string;
  /** An official's precinct (`paperPrecincts[].id`); null for an observer. */
  readonly precinct: string | null;
}

export type StaffTokenVerifier = (token: string) => Promise<StaffClaims>;

/** What the dev login signs with: its own key, and the pepper to hash member ids. */
export type DevLoginKeys = Pick<ElectionKeys, 'identity' | 'pepper'>;

/** An issuer whose tokens ingest accepts, with its public keys. */
export interface TrustedIssuer {
  /** The `iss` its tokens carry. */
  readonly issuer: string;
  /** Its public keys, looked up by the token's header (`kid`, `alg`). */
  readonly keys: JWTVerifyGetKey;
}

export interface TokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  /** The election id: a token's `aud` must be (or contain) it. */
  readonly audience: string;
  /** The oldest `iat` accepted, in seconds before now. */
  readonly maxAgeSec: number;
}

export interface StaffTokenVerifierOptions extends TokenVerifierOptions, StaffRoster {}

/** Who may hold which staff role, from the config ({@link staffRosterOf}). Observers are anyone the issuer vouches for. */
export interface StaffRoster {
  /** Officials by id, with their precinct: an official's token must name the precinct listing it. */
  readonly officials: ReadonlyMap<string, string>;
  /** Operator ids (config `operators`); none: operator tokens are refused. */
  readonly operators?: ReadonlySet<string>;
  /** Control committee ids (config `committee`); none: committee tokens are refused. */
  readonly committee?: ReadonlySet<string>;
}

/** The config's officials, operators and committee: what a staff token's `sub` is checked against. */
export function staffRosterOf(index: ElectionIndex): Required<StaffRoster> {
  return {
    officials: new Map(
      index.config.paperPrecincts.flatMap((p) => p.officials.map((o) => [o.id, p.id] as const)),
    ),
    operators: new Set((index.config.operators ?? []).map((o) => o.id)),
    committee: new Set((index.config.committee ?? []).map((c) => c.id)),
  };
}

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
 * `options.district`, any member) with the dev login's key.
 * @throws ElectionError `unknown_member` when the member is not on the roll
 */
export async function issueDevToken(
  keys: DevLoginKeys,
  index: ElectionIndex,
  memberId: string,
  options: IssueDevTokenOptions = {},
): Promise<string> {
  const district = options.district ?? sampleMemberDistrict(sampleRollPlan(index), memberId);
  if (district === undefined || index.district(district) === undefined) {
    throw new ElectionError('unknown_member', `member is not on the roll of "${index.id}"`);
  }
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ district })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: await keyId(keys.identity.publicKey) })
    .setSubject(voterHash(keys.pepper, memberId))
    .setIssuer(DEV_ISSUER)
    .setAudience(index.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSec ?? DEV_TOKEN_TTL_SEC))
    .sign(keys.identity.privateKey);
}

/**
 * Signs a staff token with the dev login's key (demo and tests only; a real
 * election's staff sign in with the member registry like voters). Not reachable
 * from the voters' dev login: only the CLI and tests call it.
 */
export async function issueDevStaffToken(
  keys: Pick<ElectionKeys, 'identity'>,
  index: ElectionIndex,
  staff: { readonly role: StaffRole; readonly id: string; readonly precinct?: string },
  options: Pick<IssueDevTokenOptions, 'ttlSec' | 'nowMs'> = {},
): Promise<string> {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims =
    staff.precinct === undefined ? { role: staff.role } : { role: staff.role, precinct: staff.precinct };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: await keyId(keys.identity.publicKey) })
    .setSubject(staff.id)
    .setIssuer(DEV_ISSUER)
    .setAudience(index.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSec ?? DEV_STAFF_TOKEN_TTL_SEC))
    .sign(keys.identity.privateKey);
}

/** RFC 7638 JWK thumbprint: a key id both sides compute from the public key alone. */
export async function keyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey));
}

/** A JWKS of Ed25519 public keys, each with its RFC 7638 thumbprint as `kid` (the dev login's key ids). */
export async function jwksOf(publicKeys: readonly KeyObject[]): Promise<JSONWebKeySet> {
  const keys = [];
  for (const key of publicKeys) {
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('identity keys must be Ed25519 public keys');
    }
    keys.push({ ...(await exportJWK(key)), kid: await keyId(key), alg: 'EdDSA', use: 'sig' });
  }
  return { keys };
}

/** An issuer trusted with fixed public keys (the dev login, tests). */
export async function issuerWithKeys(
  issuer: string,
  publicKeys: readonly KeyObject[],
): Promise<TrustedIssuer> {
  return { issuer, keys: createLocalJWKSet(await jwksOf(publicKeys)) };
}

/**
 * An issuer trusted with the keys of a JWKS: a file path, or an http(s) URL
 * fetched now (so a wrong URL stops the start) and again when a token names a
 * key it has not seen (a key rotation), at most every 30 s.
 * @throws ElectionError `issuer_keys_invalid`
 */
export async function issuerFromJwks(issuer: string, source: string): Promise<TrustedIssuer> {
  try {
    if (/^https?:\/\//.test(source)) {
      const remote = createRemoteJWKSet(new URL(source), { timeoutDuration: JWKS_TIMEOUT_MS });
      await remote.reload();
      return { issuer, keys: remote };
    }
    return { issuer, keys: createLocalJWKSet(JSON.parse(await readFile(source, 'utf8')) as JSONWebKeySet) };
  } catch (cause) {
    throw new ElectionError(
      'issuer_keys_invalid',
      `identity issuer keys ${source}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/**
 * The issuers a service trusts by its settings: the member registry
 * (`IDENTITY_JWKS` with `IDENTITY_ISSUER`) and, only while `DEV_LOGIN` is on,
 * the dev login with `devKey`'s public half. Ingest and the admin service both.
 * @throws ElectionError `issuer_keys_invalid` when the JWKS cannot be read or fetched
 */
export async function trustedIssuersFor(
  config: Pick<Config, 'identity' | 'devLogin'>,
  devKey: Pick<SigningKey, 'publicKey'> | null,
): Promise<TrustedIssuer[]> {
  const { jwks, issuer } = config.identity;
  const issuers: TrustedIssuer[] = [];
  if (jwks !== '') issuers.push(await issuerFromJwks(issuer, jwks));
  if (config.devLogin) {
    if (devKey === null) throw new TypeError('the dev login is on but its key was not loaded');
    issuers.push(await issuerWithKeys(DEV_ISSUER, [devKey.publicKey]));
  }
  return issuers;
}

/**
 * A verifier that accepts EdDSA tokens of the trusted issuers, for the
 * audience (the election), not expired and not older than `maxAgeSec`.
 * The issuer is looked up by the token's `iss` first, and the token is then
 * verified against that issuer's keys only.
 *
 * Rejections are {@link ElectionError}s with distinct codes, so a voter can
 * be told what to do: `token_wrong_issuer`, `token_wrong_audience`,
 * `token_expired`, `token_too_old`, and `unauthorized` for everything else
 * (malformed, bad signature, unknown key, missing claims). The message says
 * why, for logs; the code is all a client sees.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const verifyPayload = payloadVerifier(options);
  return async (token: string): Promise<IdentityClaims> => {
    const { sub, district, role } = await verifyPayload(token);
    if (role !== undefined) throw new ElectionError('token_wrong_role', 'a staff token is not a voter token');
    if (typeof sub !== 'string' || !VOTER_HASH.test(sub))
      throw unauthorized('token subject is not a voter hash');
    if (typeof district !== 'string' || district === '') throw unauthorized('token has no district');
    return { voterHash: sub, district, election: options.audience };
  };
}

/**
 * A verifier of staff tokens: as {@link createTokenVerifier} (same issuers,
 * same codes), plus the role. A token without a known role, an official's
 * token whose precinct does not list the official, or an operator's or
 * committee member's token whose id the config does not list, is `token_wrong_role`.
 */
export function createStaffTokenVerifier(options: StaffTokenVerifierOptions): StaffTokenVerifier {
  const verifyPayload = payloadVerifier(options);
  const roles: ReadonlySet<unknown> = new Set(STAFF_ROLES);
  return async (token: string): Promise<StaffClaims> => {
    const { sub, role, precinct } = await verifyPayload(token);
    if (!roles.has(role)) throw new ElectionError('token_wrong_role', 'token carries no staff role');
    if (typeof sub !== 'string' || sub === '') throw unauthorized('token has no subject');
    if (role === 'observer') return { role, id: sub, precinct: null };
    if (role === 'operator' || role === 'committee') {
      if (!(role === 'operator' ? options.operators : options.committee)?.has(sub)) {
        throw new ElectionError('token_wrong_role', `"${sub}" is not a ${role} member of this election`);
      }
      return { role, id: sub, precinct: null };
    }
    if (typeof precinct !== 'string' || options.officials.get(sub) !== precinct) {
      throw new ElectionError(
        'token_wrong_role',
        `"${sub}" is not an official of precinct ${JSON.stringify(precinct)}`,
      );
    }
    return { role: 'official', id: sub, precinct };
  };
}

/** Verifies signature, issuer, audience and age; the callers check the claims they need. */
function payloadVerifier(options: TokenVerifierOptions): (token: string) => Promise<JWTPayload> {
  const byIssuer = new Map(options.issuers.map((i) => [i.issuer, i]));
  if (byIssuer.size !== options.issuers.length) throw new TypeError('an issuer is configured twice');
  const verifyOptions: JWTVerifyOptions = {
    algorithms: ALGORITHMS,
    audience: options.audience,
    maxTokenAge: options.maxAgeSec,
    requiredClaims: ['sub', 'exp', 'iat'],
    clockTolerance: CLOCK_TOLERANCE_SEC,
  };

  const verifyWith = async (token: string, trusted: TrustedIssuer): Promise<JWTPayload> => {
    const opts = { ...verifyOptions, issuer: trusted.issuer };
    try {
      return (await jwtVerify(token, trusted.keys, opts)).payload;
    } catch (err) {
      // Keys without a kid: jose hands every candidate over, and one of them must verify.
      if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
      for await (const key of err) {
        try {
          return (await jwtVerify(token, key, opts)).payload;
        } catch (inner) {
          if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw unauthorized('token is signed by an unknown key');
    }
  };

  return async (token: string): Promise<JWTPayload> => {
    try {
      const iss = decodeJwt(token).iss;
      if (iss === undefined) throw unauthorized('token has no issuer');
      const trusted = byIssuer.get(iss);
      if (trusted === undefined) {
        throw new ElectionError('token_wrong_issuer', `token issuer ${JSON.stringify(iss)} is not trusted`);
      }
      return await verifyWith(token, trusted);
    } catch (err) {
      throw classify(err);
    }
  };
}

function unauthorized(message: string): ElectionError {
  return new ElectionError('unauthorized', message);
}

/**
 * jose's errors as the catalogue's codes. A JWKS that cannot be fetched is
 * not the token's fault: that error passes through (ingest answers 503).
 */
function classify(err: unknown): unknown {
  if (err instanceof ElectionError || err instanceof joseErrors.JWKSTimeout) return err;
  if (!(err instanceof joseErrors.JOSEError)) return err;
  const as = (code: ElectionError['code'], message: string): ElectionError =>
    new ElectionError(code, message, { cause: err });
  if (err instanceof joseErrors.JWTExpired) {
    return err.claim === 'iat'
      ? as('token_too_old', 'token is older than the maximum age')
      : as('token_expired', 'token has expired');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return as('token_wrong_audience', `token is not for this election (${err.reason})`);
    if (err.claim === 'iss') return as('token_wrong_issuer', 'token issuer is not trusted');
    return as(
      'unauthorized',
      `token claim "${err.claim}" is ${err.reason === 'missing' ? 'missing' : 'invalid'}`,
    );
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return as('unauthorized', 'token algorithm is not EdDSA');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return as('unauthorized', 'token is signed by an unknown key');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return as('unauthorized', 'token signature is invalid');
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) {
    return as('unauthorized', 'token is malformed');
  }
  return as('unauthorized', `token rejected: ${err.message}`);
}
