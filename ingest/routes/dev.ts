/**
 * The dev identity provider (only with `DEV_LOGIN`): lists members of the
 * synthetic sample roll and signs identity tokens for them. Never enabled in
 * production; it exists so the demo and the tests can vote end to end.
 */
import { isElectionError, issueDevToken, listSampleMembers, MAX_SAMPLE_PAGE } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';
import { parseBody, validateDevLoginRequest } from '../schemas.js';

function integer(value: string | null, fallback: number, max: number): number {
  if (value === null || value === '') return fallback;
  if (!/^\d{1,12}$/.test(value)) throw new IngestError('bad_request', 'limit and offset are integers.');
  return Math.min(Number(value), max);
}

export function devRoutes(ctx: IngestContext): RouteSpec[] {
  const { election, keys } = ctx;
  if (keys.identity === null) throw new TypeError('the dev login needs its key (read with devLogin on)');
  const signer = { identity: keys.identity, pepper: keys.pepper };

  function members(ex: Exchange): Reply {
    const query = new URLSearchParams(ex.query);
    if (query.get('election') !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const limit = integer(query.get('limit'), 20, MAX_SAMPLE_PAGE);
    const offset = integer(query.get('offset'), 0, Number.MAX_SAFE_INTEGER);
    try {
      return json('200 OK', { members: listSampleMembers(election, offset, limit) });
    } catch (cause) {
      if (isElectionError(cause, 'no_sample_roll'))
        throw new IngestError('not_found', 'No sample roll.', { cause });
      throw cause;
    }
  }

  async function login(ex: Exchange): Promise<Reply> {
    const request = parseBody(ex.body, validateDevLoginRequest);
    if (request.election !== election.id) throw new IngestError('not_found', 'Unknown election.');
    try {
      return json('200 OK', { token: await issueDevToken(signer, election, request.memberId) });
    } catch (cause) {
      if (isElectionError(cause, 'unknown_member'))
        throw new IngestError('not_eligible', undefined, { cause });
      throw cause;
    }
  }

  const base = { params: 0, auth: false, conditional: false, admission: true, padTo: null } as const;
  return [
    { ...base, name: 'dev_members', method: 'get', pattern: '/v1/dev/members', body: false, handle: members },
    { ...base, name: 'dev_login', method: 'post', pattern: '/v1/dev/login', body: true, handle: login },
  ];
}
