/**
 * `Authorization: Bearer <identity token>`, verified: what every signed-in
 * route (voters', officials', observers') starts with. The verifier's
 * refusals keep their own codes (401; a token of the wrong kind, 403
 * `token_wrong_role`); anything else it throws is not a refusal and propagates.
 */
import { isElectionError } from '../../election/index.js';
import { type ErrorCode, IngestError } from '../errors.js';

const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;

/** The verifier's refusals: a client must sign in again (or with another kind of token). */
export const TOKEN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'unauthorized',
  'token_wrong_role',
  'token_wrong_issuer',
  'token_wrong_audience',
  'token_too_old',
  'token_expired',
]);

/** The claims `verify` makes of the request's bearer token. @throws IngestError as above */
export async function bearerClaims<C>(
  authorization: string,
  verify: (token: string) => Promise<C>,
): Promise<C> {
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined) throw new IngestError('unauthorized', 'A Bearer identity token is required.');
  try {
    return await verify(token);
  } catch (cause) {
    if (isElectionError(cause) && TOKEN_CODES.has(cause.code)) {
      throw new IngestError(cause.code as ErrorCode, undefined, { cause });
    }
    throw cause;
  }
}
