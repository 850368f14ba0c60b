/**
 * `GET /v1/elections` and `GET /v1/elections/{id}` (the manifest). Both
 * bodies are serialised and compressed once at start-up (FixedJson: Brotli
 * or gzip by `Accept-Encoding`, a strong ETag per variant, 304, HEAD), and
 * are cacheable, so clients and CDNs revalidate with a 304.
 */
import { buildManifest } from '../../election/index.js';
import type { IngestContext } from '../context.js';
import { IngestError } from '../errors.js';
import type { Exchange, Reply } from '../http/exchange.js';
import { FixedJson } from '../http/fixed-json.js';
import type { RouteSpec } from '../http/router.js';

const CACHE = 'public, max-age=60';

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
  const manifest = new FixedJson(Buffer.from(JSON.stringify(buildManifest(election, keys))), CACHE);

  function getManifest(ex: Exchange): Reply {
    if (ex.params[0] !== election.id) throw new IngestError('not_found', 'Unknown election.');
    return manifest.reply(ex);
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
      handle: getManifest,
    },
  ];
}
