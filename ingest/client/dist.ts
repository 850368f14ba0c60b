/**
 * The built client on disk: `ingest/client/dist/` (git-ignored), written once
 * by `npm run client:build` (run by `infra/bootstrap.mjs` before `npm start`
 * and `npm test`, by CI, and at deploy), read by every ingest process at
 * start-up. Ingest never runs esbuild itself: N workers building the same
 * bundle at every start was slow and needed a dev dependency in production.
 *
 *   dist/files.json   { source: <fingerprint>, files: [{ path, type, immutable }] }
 *   dist/index.html, dist/official/index.html, dist/official/sw.js, dist/assets/…
 *
 * The fingerprint hashes every source the build reads (this folder but
 * `dist/`, the READMEs and `serve.ts`; `common/web/`, the browser modules the
 * client shares with the results site), the other files outside it that the page
 * bundles ({@link SHARED_SOURCES}) and `package-lock.json` (the bundled packages);
 * a build whose fingerprint differs from the sources' is stale, and ingest
 * refuses to start on it rather than serve a page that does not match the API.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../../common/paths.js';

export const CLIENT_DIR = dirname(new URL(import.meta.url).pathname);
export const DIST_DIR = join(CLIENT_DIR, 'dist');
/** Browser modules the client bundles from outside its folder (shared with the results site). */
const SHARED_DIRS = [join(repoRoot, 'common', 'web')];
/** What to tell an operator whose build is missing or stale. */
export const BUILD_COMMAND = 'npm run client:build';

export interface ClientFile {
  /** URL path, e.g. `/` or `/assets/main-ABC.js`. */
  readonly path: string;
  readonly body: Buffer;
  readonly type: string;
  /** Content-hashed: cacheable for a year. */
  readonly immutable: boolean;
}

interface DistIndex {
  readonly source: string;
  readonly files: readonly { path: string; type: string; immutable: boolean }[];
}

/** Start-up refused: no build, or one made from other sources. */
export class ClientBuildError extends Error {
  readonly code = 'SAYLAU_ERR_CLIENT_BUILD';
}

/** A URL path's file under `dist/`: a path ending in `/` is that folder's `index.html`. */
export const distPath = (path: string): string => `${path.slice(1)}${path.endsWith('/') ? 'index.html' : ''}`;

/** Skipped when fingerprinting: the output, temporary outputs (dot-folders), prose and the server side. */
const notSource = (rel: string): boolean =>
  rel === 'dist' ||
  rel.startsWith('dist/') ||
  rel.startsWith('.') ||
  rel.includes('/.') ||
  rel.endsWith('.md') ||
  rel === 'serve.ts';

/** Single files outside this folder that the page bundles, relative to the repository root. */
const SHARED_SOURCES = ['election/ballot-size.ts'];

/** Hashes the sources under `dir` (path relative to the repository and bytes, in sorted order). */
async function hashSources(hash: Hash, dir: string): Promise<void> {
  const entries = (await readdir(dir, { recursive: true })).filter((rel) => !notSource(rel)).sort();
  for (const rel of entries) {
    const path = join(dir, rel);
    if (!(await stat(path)).isFile()) continue;
    hash
      .update(`${relative(repoRoot, path)}\0`)
      .update(await readFile(path))
      .update('\0');
  }
}

/** SHA-256 over the client's sources, the shared browser modules and files, and the lockfile. */
export async function sourceFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of [CLIENT_DIR, ...SHARED_DIRS]) await hashSources(hash, dir);
  for (const rel of SHARED_SOURCES) hash.update(`${rel}\0`).update(await readFile(join(repoRoot, rel)));
  hash.update(await readFile(join(repoRoot, 'package-lock.json')));
  return hash.digest('base64url');
}

async function readIndex(dir: string): Promise<DistIndex | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'files.json'), 'utf8')) as DistIndex;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ClientBuildError(`${dir}/files.json is unreadable: run \`${BUILD_COMMAND}\``, { cause });
  }
}

/** Whether `dir` holds a build of the current sources. */
export async function distIsCurrent(dir = DIST_DIR): Promise<boolean> {
  const index = await readIndex(dir);
  return index !== null && index.source === (await sourceFingerprint());
}

/**
 * Writes `files` to `dir` whole, then swaps it in: a process starting
 * meanwhile reads the old build or the new one, never half of each.
 */
export async function writeDist(files: readonly ClientFile[], dir = DIST_DIR): Promise<void> {
  const fresh = join(dirname(dir), `.dist-${process.pid}`);
  const old = join(dirname(dir), `.dist-old-${process.pid}`);
  await rm(fresh, { recursive: true, force: true });
  for (const file of files) {
    const target = join(fresh, distPath(file.path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.body);
  }
  const index: DistIndex = {
    source: await sourceFingerprint(),
    files: files.map((f) => ({ path: f.path, type: f.type, immutable: f.immutable })),
  };
  await writeFile(join(fresh, 'files.json'), `${JSON.stringify(index, null, 2)}\n`);
  await rename(dir, old).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code !== 'ENOENT') throw cause;
  });
  await rename(fresh, dir);
  await rm(old, { recursive: true, force: true });
}

/** The build's files, or a {@link ClientBuildError} saying what to run. */
export async function readDist(dir = DIST_DIR): Promise<ClientFile[]> {
  const index = await readIndex(dir);
  if (index === null)
    throw new ClientBuildError(`the web client is not built (${dir}): run \`${BUILD_COMMAND}\``);
  if (index.source !== (await sourceFingerprint()))
    throw new ClientBuildError(
      `the web client in ${dir} was built from other sources (stale): run \`${BUILD_COMMAND}\``,
    );
  return Promise.all(
    index.files.map(async (f) => ({ ...f, body: await readFile(join(dir, distPath(f.path))) })),
  );
}
