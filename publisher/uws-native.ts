/**
 * Loads the native uWebSockets.js binary for this platform and Node ABI,
 * bypassing the package's `src/uws.js` shim, which silently falls back to a
 * pure-JS emulation on any load failure (a fraction of the throughput).
 *
 * Same approach as `ingest/http/uws.ts`; kept separate because the results
 * site must not depend on ingest (DESIGN §1 promise 5) — the pair belongs in
 * `common/` once both settle.
 */

import type * as UwsModule from 'uWebSockets.js';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PublisherError } from './errors.js';

export type Uws = typeof UwsModule;
export type { HttpResponse, TemplatedApp, us_listen_socket as ListenSocket } from 'uWebSockets.js';

const require = createRequire(import.meta.url);
let loaded: Uws | null = null;

export function loadUws(): Uws {
  if (loaded !== null) return loaded;
  const dir = join(require.resolve('uWebSockets.js/package.json'), '..');
  const path = join(
    dir,
    'binaries',
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  try {
    loaded = require(path) as Uws;
  } catch (cause) {
    throw new PublisherError('source_unavailable', `cannot load the native uWebSockets.js binary ${path}`, {
      cause,
    });
  }
  return loaded;
}
