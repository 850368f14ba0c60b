/**
 * Debian's Chromium for browser tests, driven by playwright-core (which never
 * downloads a browser). CI starts from a fresh machine, so a missing
 * /usr/bin/chromium is installed with apt-get here, once, with a font that
 * covers Cyrillic and the Kazakh letters (ә ғ қ ң ө ұ ү һ і).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', 'chromium', 'fonts-dejavu-core'], { stdio: 'inherit', env });
}

export function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
