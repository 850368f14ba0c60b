/**
 * Copies the static site (`publisher/site/`) into the public directory, so
 * that one directory — site, snapshots, feed, manifest — is the whole
 * results site and can be handed to any static host or CDN as it is.
 * Each file is written to a temp name and renamed, so a reader never sees
 * half an asset.
 */
import { copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SITE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'site');

/** Sub-pages copied as folders of their own (`/observe/`: the observers' live view). */
const PAGES = ['observe'] as const;

export async function installSite(publicDir: string): Promise<string[]> {
  const installed: string[] = [];
  for (const dir of ['', ...PAGES]) {
    await mkdir(join(publicDir, dir), { recursive: true });
    const files = (await readdir(join(SITE_DIR, dir))).filter((f) => /^[a-z0-9-]+\.(html|css|js)$/.test(f));
    for (const file of files) {
      const tmp = join(publicDir, dir, `.${file}.${process.pid}.tmp`);
      await copyFile(join(SITE_DIR, dir, file), tmp);
      await rename(tmp, join(publicDir, dir, file));
      installed.push(join(dir, file));
    }
  }
  return installed;
}
