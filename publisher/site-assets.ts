/**
 * Copies the static site (`publisher/site/`) into the public directory, so
 * that one directory — site, snapshots, feed, manifest — is the whole
 * results site and can be handed to any static host or CDN as it is.
 * The browser modules the site shares with the voter page (`common/web/`)
 * go to `web/`, where the site's scripts import them (`./web/format.js`).
 * Each file is written to a temp name and renamed, so a reader never sees
 * half an asset.
 */
import { copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../common/paths.js';

export const SITE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'site');
/** `common/web/`: served unchanged at `/web/<file>.js`. */
export const WEB_MODULES_DIR = join(repoRoot, 'common', 'web');

/** Sub-pages copied as folders of their own (`/observe/`: the observers' live view). */
const PAGES = ['observe'] as const;

/** Copies the files of `from` whose names match `pattern` into `publicDir/to`; their paths there. */
async function copyFolder(from: string, publicDir: string, to: string, pattern: RegExp): Promise<string[]> {
  await mkdir(join(publicDir, to), { recursive: true });
  const files = (await readdir(from)).filter((f) => pattern.test(f));
  for (const file of files) {
    const tmp = join(publicDir, to, `.${file}.${process.pid}.tmp`);
    await copyFile(join(from, file), tmp);
    await rename(tmp, join(publicDir, to, file));
  }
  return files.map((file) => join(to, file));
}

export async function installSite(publicDir: string): Promise<string[]> {
  const installed: string[] = [];
  for (const dir of ['', ...PAGES])
    installed.push(
      ...(await copyFolder(join(SITE_DIR, dir), publicDir, dir, /^[a-z0-9-]+\.(html|css|js|svg)$/)),
    );
  installed.push(...(await copyFolder(WEB_MODULES_DIR, publicDir, 'web', /^[a-z0-9-]+\.js$/)));
  return installed;
}
