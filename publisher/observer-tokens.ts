/**
 * Who may open the observers' feed: a staff token (election/identity.ts)
 * from the issuers ingest trusts — the member registry (`IDENTITY_JWKS`),
 * and the dev login while `DEV_LOGIN` is on, checked with its *public* key
 * (`keys/<election>/public/identity.pem`): the publisher signs no token.
 * Of the staff roles, observers, operators and committee members may watch;
 * an official (a polling station's) may not, nor a voter.
 */
import type { Config } from '../common/config.js';
import {
  createStaffTokenVerifier,
  DEV_ISSUER,
  ElectionError,
  type ElectionIndex,
  issuerFromJwks,
  issuerWithKeys,
  readIdentityPublicKey,
  type StaffClaims,
  type StaffTokenVerifier,
  staffRosterOf,
  type TrustedIssuer,
} from '../election/index.js';

/** The staff roles that may watch. */
export const WATCHING_ROLES: ReadonlySet<string> = new Set(['observer', 'operator', 'committee']);

export type WatcherVerifier = (token: string) => Promise<StaffClaims>;

/**
 * @throws ElectionError `issuer_keys_invalid` (the JWKS cannot be read), `keys_missing` (dev login on,
 *   no public identity key: run `npm run election -- init`)
 */
export async function watcherVerifierFor(config: Config, election: ElectionIndex): Promise<WatcherVerifier> {
  const issuers: TrustedIssuer[] = [];
  if (config.identity.jwks !== '')
    issuers.push(await issuerFromJwks(config.identity.issuer, config.identity.jwks));
  if (config.devLogin) {
    const key = await readIdentityPublicKey(config.stackDir, election.id);
    issuers.push(await issuerWithKeys(DEV_ISSUER, [key.publicKey]));
  }
  const staff: StaffTokenVerifier = createStaffTokenVerifier({
    issuers,
    audience: election.id,
    maxAgeSec: config.identity.maxStaffTokenAgeSec,
    ...staffRosterOf(election),
  });
  return async (token) => {
    const claims = await staff(token);
    if (!WATCHING_ROLES.has(claims.role)) {
      throw new ElectionError(
        'token_wrong_role',
        `a ${claims.role}'s token does not open the observers' feed`,
      );
    }
    return claims;
  };
}
