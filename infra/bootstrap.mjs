// Installs npm dependencies when they are missing or older than the lockfile,
// and builds the web client when its build is missing or stale (ingest only
// reads ingest/client/dist/), so `npm start` and `npm test` work straight
// after `git clone`.
// Plain JS on purpose: it runs before any dependency (tsx, typescript) exists.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');

const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.error('[bootstrap] installing npm dependencies (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// A no-op when ingest/client/dist/ was built from the current sources.
execFileSync(process.execPath, ['--import', 'tsx', 'ingest/client/build.ts', '--if-stale'], {
  cwd: root,
  stdio: 'inherit',
});
