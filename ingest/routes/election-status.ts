/**
 * `GET /v1/elections/{id}/status`: the election as the commission runs it now
 * (ingest/election-live.ts) — `{phase, opens, closes, pause: {reason, until}|null,
 * candidates: {race: {candidate: 'withdrawn'|'removed'}}, head}`. Tiny and
 * `no-store`: the voter page reads it at start, every 15 s and whenever an
 * answer says the commission changed something. 503 `unavailable` until this
 * worker's follower has caught up with the stream.
 */
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';

const HEADERS = [['cache-control', 'no-store']] as const;

export function electionStatusRoute(ctx: IngestContext): RouteSpec {
  const { election, live } = ctx;

  function handle(ex: Exchange): Reply {
    if (ex.params[0] !== election.id) throw new IngestError('not_found', 'Unknown election.');
    const body = live.statusBody(Date.now());
    if (body === null) throw new IngestError('unavailable');
    return json('200 OK', body, HEADERS);
  }

  return {
    name: 'election_status',
    method: 'get',
    pattern: '/v1/elections/:id/status',
    params: 1,
    body: false,
    auth: false,
    conditional: false,
    admission: false,
    padTo: null,
    handle,
  };
}
