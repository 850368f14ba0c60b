/**
 * `GET /v1/elections` and `GET /v1/elections/{id}` (the manifest). Both
 * bodies are serialised once at start-up; the manifest carries a strong
 * ETag and is cacheable, so clients and CDNs revalidate with a 304.
 */
import { createHash } from 'node:crypto';
import { buildManifest } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import { type Exchange, json, type Reply } from '../http/exchange.js';
import type { RouteSpec } from '../http/router.js';

const CACHE = 'public, max-age=60';
const EMPTY = Buffer.alloc(0);

export function electionRoutes(ctx: IngestContext): RouteSpec[] {
  const { election, keys } = ctx;
  const list = json('200 OK', {
    elections: [
      {
        id: election.id,
        name: election.config.names,
        opens: election.config.opens,
        closes: election.config.closes,
      },
    ],
  });
  const manifestBody = Buffer.from(JSON.stringify(buildManifest(election, keys)));
  const etag = `"${createHash('sha256').update(manifestBody).digest('base64url').slice(0, 27)}"`;
  const headers = [
    ['etag', etag],
    ['cache-control', CACHE],
  ] as const;
  const manifest = json('200 OK', manifestBody, headers);
  const notModified = json('304 Not Modified', EMPTY, headers);

  function getManifest(ex: Exchange): Reply {
    if (ex.params[0] !== election.id) throw new IngestError('not_found', 'Unknown election.');
    return ex.ifNoneMatch === etag ? notModified : manifest;
  }

  const base = { method: 'get', body: false, auth: false, admission: false, padTo: null } as const;
  return [
    {
      ...base,
      name: 'elections',
      pattern: '/v1/elections',
      params: 0,
      conditional: false,
      handle: () => list,
    },
    {
      ...base,
      name: 'manifest',
      pattern: '/v1/elections/:id',
      params: 1,
      conditional: true,
      handle: getManifest,
    },
  ];
}
