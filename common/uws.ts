/**
 * Loads the native uWebSockets.js binary directly.
 *
 * The installed package (`uWebSockets.js`, an npm alias) resolves through
 * `src/uws.js`, which on any load failure silently falls back to a pure-JS
 * emulation built on `ws`: same API, a fraction of the throughput, different
 * back-pressure semantics. We never want that in production, so we bypass the
 * shim and `require` the `.node` file for this platform and ABI, failing loudly.
 */

import type * as UwsModule from 'uWebSockets.js';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type Uws = typeof UwsModule;
export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket as ListenSocket,
  WebSocket,
} from 'uWebSockets.js';

export class UwsLoadError extends Error {
  readonly code = 'SAYLAU_ERR_UWS_NATIVE';
}

const require = createRequire(import.meta.url);

/** The binary's path for this process: `uws_<platform>_<arch>_<ABI>.node`. */
export function nativeBinaryPath(): string {
  const packageDir = join(require.resolve('uWebSockets.js/package.json'), '..');
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return join(packageDir, 'binaries', file);
}

let loaded: Uws | null = null;

/** Returns the native module, loading it once; throws {@link UwsLoadError} if it cannot. */
export function loadUws(): Uws {
  if (loaded !== null) return loaded;
  const path = nativeBinaryPath();
  try {
    loaded = require(path) as Uws;
  } catch (cause) {
    throw new UwsLoadError(
      `cannot load the native uWebSockets.js binary ${path} (Node ABI ${process.versions.modules}); ` +
        'refusing the JS fallback. Use a Node version with a shipped binary (20 = ABI 115).',
      { cause },
    );
  }
  if (typeof loaded.App !== 'function') {
    throw new UwsLoadError(`${path} does not export App: not a uWebSockets.js binary`);
  }
  return loaded;
}
