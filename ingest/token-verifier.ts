/**
 * Which identity tokens this ingest accepts (DESIGN §3): those of the member
 * registry set by `IDENTITY_JWKS` (its public keys) and `IDENTITY_ISSUER`
 * (its `iss`), and, only while `DEV_LOGIN` is on, the dev login's, verified
 * with the public half of the dev key ingest signs them with. A production
 * config (dev login off) does not trust the dev issuer at all, so a dev token
 * is refused as `token_wrong_issuer`.
 */
import { type Config, ConfigError } from '../common/config.js';
import {
  createStaffTokenVerifier,
  createTokenVerifier,
  DEV_ISSUER,
  type ElectionIndex,
  type SigningKey,
  type StaffTokenVerifier,
  staffRosterOf,
  type TokenVerifier,
  type TrustedIssuer,
  trustedIssuersFor,
} from '../election/index.js';

/**
 * What {@link tokenVerifierFor} would refuse that needs neither keys nor the
 * network: the supervisor checks it before forking workers that could only fail.
 * @throws ConfigError when no issuer is configured, or the registry claims the dev issuer's name
 */
export function checkIdentityConfig(config: Config): void {
  if (config.identity.jwks !== '' && config.identity.issuer === DEV_ISSUER) {
    throw new ConfigError('IDENTITY_ISSUER', `"${DEV_ISSUER}" is the dev login's issuer, never a registry's`);
  }
  if (config.identity.jwks === '' && !config.devLogin) {
    throw new ConfigError(
      'IDENTITY_JWKS',
      'ingest trusts no identity issuer: set IDENTITY_JWKS and IDENTITY_ISSUER (or DEV_LOGIN=1 for the demo)',
    );
  }
}

/**
 * @param devKey the dev login's key: required when `config.devLogin`, ignored otherwise
 * @throws ConfigError as {@link checkIdentityConfig}
 * @throws ElectionError `issuer_keys_invalid` when the JWKS cannot be read or fetched
 */
export async function tokenVerifierFor(
  config: Config,
  electionId: string,
  devKey: SigningKey | null,
): Promise<TokenVerifier> {
  const issuers = await trustedIssuers(config, devKey);
  return createTokenVerifier({ issuers, audience: electionId, maxAgeSec: config.identity.maxTokenAgeSec });
}

/**
 * The staff tokens (officials, observers) this ingest accepts: the same
 * issuers as voters' tokens, a shift-long maximum age, officials bound to the
 * precincts of `election`'s config.
 * @throws as {@link tokenVerifierFor}
 */
export async function staffTokenVerifierFor(
  config: Config,
  election: ElectionIndex,
  devKey: SigningKey | null,
): Promise<StaffTokenVerifier> {
  const issuers = await trustedIssuers(config, devKey);
  return createStaffTokenVerifier({
    issuers,
    audience: election.id,
    maxAgeSec: config.identity.maxStaffTokenAgeSec,
    ...staffRosterOf(election),
  });
}

async function trustedIssuers(config: Config, devKey: SigningKey | null): Promise<TrustedIssuer[]> {
  checkIdentityConfig(config);
  return trustedIssuersFor(config, devKey);
}
