/**
 * `GET /v1/elections`, `GET /v1/elections/{id}` (the full manifest, for API
 * clients and load tests), and what the voter page reads instead of it:
 * `GET /v1/elections/{id}/summary` before sign-in and
 * `GET /v1/elections/{id}/districts/{district}` (one district's slice, whose
 * SHA-256 the summary carries) once the voter's district is known. Every
 * body is serialised and compressed once at start-up (FixedJson: Brotli or
 * gzip by `Accept-Encoding`, a strong ETag per variant, 304, HEAD). The list
 * and manifest are cacheable for a minute; the summary and slices are
 * `no-cache` (revalidated with the ETag) so a page never pairs a summary
 * with a slice of another start-up's keys.
 */
import { buildManifest, servedManifest } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import type { Exchange, Reply } from '../http/exchange.js';
import { FixedJson } from '../http/fixed-json.js';
import type { RouteSpec } from '../http/router.js';

const CACHE = 'public, max-age=60';
const REVALIDATE = 'no-cache';

export function electionRoutes(ctx: IngestContext): RouteSpec[] {
  const { election, keys } = ctx;
  const list = new FixedJson(
    Buffer.from(
      JSON.stringify({
        elections: [
          {
            id: election.id,
            name: election.config.names,
            opens: election.config.opens,
            closes: election.config.closes,
          },
        ],
      }),
    ),
    CACHE,
  );
  const served = servedManifest(buildManifest(election, keys));
  const manifest = new FixedJson(served.manifest, CACHE);
  const summary = new FixedJson(served.summary, REVALIDATE);
  const slices = new Map([...served.slices].map(([id, body]) => [id, new FixedJson(body, REVALIDATE)]));

  function known(ex: Exchange): void {
    if (ex.params[0] !== election.id) throw new IngestError('not_found', 'Unknown election.');
  }

  function getSlice(ex: Exchange): Reply {
    known(ex);
    const slice = slices.get(ex.params[1]!);
    if (slice === undefined) throw new IngestError('not_found', 'Unknown district.');
    return slice.reply(ex);
  }

  const base = { method: 'get', body: false, auth: false, admission: false, padTo: null } as const;
  return [
    {
      ...base,
      name: 'elections',
      pattern: '/v1/elections',
      params: 0,
      conditional: true,
      handle: (ex) => list.reply(ex),
    },
    {
      ...base,
      name: 'manifest',
      pattern: '/v1/elections/:id',
      params: 1,
      conditional: true,
      handle: (ex) => {
        known(ex);
        return manifest.reply(ex);
      },
    },
    {
      ...base,
      name: 'election_summary',
      pattern: '/v1/elections/:id/summary',
      params: 1,
      conditional: true,
      handle: (ex) => {
        known(ex);
        return summary.reply(ex);
      },
    },
    {
      ...base,
      name: 'district_slice',
      pattern: '/v1/elections/:id/districts/:district',
      params: 2,
      conditional: true,
      handle: getSlice,
    },
  ];
}
