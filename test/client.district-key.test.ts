/**
 * The voter client checks the district key it is about to blind against
 * the results site's signed `keys.json` (a second origin) — issue 14: a
 * malicious ingest serving its own key for a district (per voter, it could
 * trace every ballot) is refused with a clear message in kk/ru/en, before
 * any credential is requested; the published key passes; and voting does
 * not depend on the results site being up (the check is skipped when it
 * cannot be fetched). Debian's Chromium against a real ingest and the
 * publisher's own static server.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { buildManifest, loadElection, readKeys, roleKeysDir } from '../election/index.js';
import { districtKeyFingerprints } from '../publisher/district-keys.js';
import { signKeyStatement } from '../publisher/key-statement.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import { StaticServer } from '../publisher/static-server.js';
import { api, forgetElection, type Ingest, startIngest } from './ingest.harness.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { config } from './support/stack.js';

const PORT = testPort(18_684);
const RESULTS_PORT = testPort(18_685);
const ELECTION = `keycheck-${Date.now().toString(36)}`;
const out = join(repoRoot, 'test-output', 'client-key-check');
const publicDir = join(out, 'public');
const run = promisify(execFile);
const catalogue = (lang: string) =>
  JSON.parse(readFileSync(join(repoRoot, 'ingest', 'client', 'i18n', `${lang}.json`), 'utf8'));

let browser: Browser;
let ingest: Ingest;
let results: StaticServer | null = null;
let electionPath: string;
let members: { memberId: string; district: string }[] = [];

async function startResults(): Promise<void> {
  results = new StaticServer({
    root: publicDir,
    port: RESULTS_PORT,
    opsPort: 0,
    host: '127.0.0.1',
    metrics: new PublisherMetrics(),
    logger: createLogger('results', 'warn'),
    ready: () => true,
  });
  await results.listen();
}

const startVoting = () =>
  startIngest({
    election: electionPath,
    port: PORT,
    env: { PUBLIC_DIR: publicDir, PUBLISHER_PORT: String(RESULTS_PORT) },
  });

/** Opens the page, signs in as `memberId`; returns the page and what it requested. */
async function signIn(memberId: string, locale = 'en-GB') {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (req) => requests.push(`${req.method()} ${req.url()}`));
  await page.goto(`http://127.0.0.1:${PORT}/`);
  await page.locator('#member').selectOption(memberId);
  await page.locator('form.card button[type=submit]').click();
  return { context, page, requests };
}

const memberOf = (district: string, nth = 0) => members.filter((m) => m.district === district)[nth]!;

async function setLang(page: Page, lang: string): Promise<void> {
  await page.locator(`#langs button[data-lang="${lang}"]`).click();
  await expect.poll(() => page.getAttribute('html', 'lang')).toBe(lang);
}

beforeAll(async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(publicDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  electionPath = join(out, `${ELECTION}.json`);
  writeFileSync(
    electionPath,
    JSON.stringify({
      ...tiny,
      id: ELECTION,
      opens: '2020-01-01T00:00:00Z',
      closes: '2099-12-31T23:59:59Z',
      sampleRoll: { seed: ELECTION, size: 300 },
    }),
  );
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', electionPath], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  // What the publisher writes at start: the manifest's district keys, signed with the snapshot key.
  const index = loadElection(electionPath);
  const keys = await readKeys(config.stackDir, ELECTION);
  const store = new SnapshotStore(publicDir);
  await store.open();
  await store.publishKeyStatement(
    signKeyStatement(ELECTION, districtKeyFingerprints(buildManifest(index, keys)), keys.snapshot.privateKey),
  );
  await startResults();
  ingest = await startVoting();
  members = (await api(ingest.base, 'GET', `/v1/dev/members?election=${ELECTION}&limit=50`)).body.members;
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await ingest?.stop();
  results?.close();
  await forgetElection(config, ELECTION);
});

describe('voter client: district key against the published one', () => {
  it('the published key passes: the page fetched keys.json from the results site and got a credential', async () => {
    const { context, page, requests } = await signIn(memberOf('D-75-1').memberId);
    await page.locator('form.ballot').waitFor();
    expect(requests).toContain(`GET http://127.0.0.1:${RESULTS_PORT}/keys.json`);
    expect(requests).toContain(`POST http://127.0.0.1:${PORT}/v1/credentials`);
    await context.close();
  });

  it('ingest serving another key for a district: refused in kk/ru/en before any credential is asked for', async () => {
    // The voting host's key file for D-75-2 replaced, as a tampering insider (or a slip) would.
    const district = 'D-75-2';
    await ingest.stop();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicExponent: 0x10001,
    });
    writeFileSync(
      join(roleKeysDir(config.stackDir, ELECTION, 'ingest'), 'districts', `${district}.pem`),
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    ingest = await startVoting();
    const served = await api(ingest.base, 'GET', `/v1/elections/${ELECTION}`);
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
    expect(served.body.districts.find((d: { id: string }) => d.id === district).key.spki).toBe(spki);

    const { context, page, requests } = await signIn(memberOf(district).memberId, 'kk-KZ');
    const problem = page.locator('#problem');
    await problem.waitFor();
    for (const lang of ['kk', 'ru', 'en']) {
      await setLang(page, lang);
      expect(await problem.textContent()).toBe(catalogue(lang)['error.district_key_mismatch.text']);
      expect(await page.locator('main h1').textContent()).toBe(
        catalogue(lang)['error.district_key_mismatch.title'],
      );
    }
    await page.screenshot({ path: join(out, 'district-key-mismatch-en.png'), fullPage: true });
    expect(requests.filter((r) => r.includes('/v1/credentials'))).toEqual([]);
    await context.close();

    // A district whose key is the published one still votes through the same ingest.
    const other = await signIn(memberOf('D-71-1').memberId);
    await other.page.locator('form.ballot').waitFor();
    await other.context.close();
  });

  it('the results site down: the check is skipped and voting goes on', async () => {
    results?.close();
    results = null;
    const { context, page, requests } = await signIn(memberOf('D-75-1', 1).memberId);
    await page.locator('form.ballot').waitFor();
    expect(requests).toContain(`GET http://127.0.0.1:${RESULTS_PORT}/keys.json`);
    await context.close();
  });
});
