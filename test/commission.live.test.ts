/**
 * The commission runs the vote live (issue 16, spec §6): signed events
 * produced to `election-events` (acks=all, partition 0, as the admin API
 * does) take effect on every ingest worker within 5 s of their ack — two
 * workers here (INGEST_PROCESSES=2), each probe on a fresh connection so the
 * kernel spreads them over both, and each worker's log shows it applied
 * the event.
 *
 *   extend → the closing time moves; a ballot after the old closing time is accepted (that
 *            extension is made before ingest starts — a busy machine's start-up cannot be
 *            timed against a closing time — and applied when the workers catch up; a second
 *            one, live, moves the closing time again within 5 s)
 *   remove → ballots naming the candidate `422 candidate_removed`; the ballot cast for
 *            them before stays in the log, in ClickHouse's tally, and in the snapshot
 *            shown but outside the valid total
 *   pause  → issuance and casting `503 election_paused` (reason, until; Retry-After 30),
 *            the status endpoint says paused, and so does the voter page (with the
 *            removed candidate as no longer standing)
 *   resume → accepted again        close → `403 election_closed`
 *
 * Probes carry a credential that does not verify: every check the commission
 * decides comes before the credential's, so a probe is refused by the event or
 * else `invalid_credential`, and uses up no credential.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { ELECTION_EVENTS_PARTITION, type ElectionEventRecord, TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  loadElection,
  newEventId,
  operatorKeyPath,
  readPublisherKeys,
  signEvent,
} from '../election/index.js';
import { ClickHouseSource } from '../publisher/clickhouse-source.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { rollSourceFor } from '../publisher/roll-source.js';
import { SnapshotScheduler } from '../publisher/scheduler.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import {
  api,
  forgetElection,
  type Ingest,
  initElection,
  outputDir,
  startIngest,
  VoterClient,
  type Wire,
} from './ingest.harness.js';
import { fakeDistrictKeys } from './publisher.fixtures.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_770);
const ELECTION = `live-${Date.now().toString(36)}`;
const OPERATOR = 'OP-1';
/** The config's closing time, from when the election is made: after `election init`, before the last steps. */
const CLOSES_AFTER_MS = 30_000;
const WITHIN_MS = 5_000;
/** Probes per round, each on its own connection: 2 workers all hit with near certainty (1 − 2⁻¹¹). */
const SPREAD = 12;
const DISTRICT = 'D-71-1';
const RACE = 'R-71-1';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let index: ElectionIndex;
let ingest: Ingest;
let producer: Producer;
let operatorKey: KeyObject;
let closesAt: number;
let browser: Browser | null = null;
let source: ClickHouseSource | null = null;
const client = () => new VoterClient(ingest.base, ELECTION);
let members: { memberId: string; district: string }[] = [];
let nextMember = 0;
/** The candidate removed mid-vote, and the one every other ballot marks. */
let removed: string;
let kept: string;

async function prepare(): Promise<string> {
  mkdirSync(outputDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  closesAt = Math.ceil((Date.now() + CLOSES_AFTER_MS) / 1000) * 1000;
  const path = join(outputDir, `${ELECTION}.json`);
  const election = {
    ...tiny,
    id: ELECTION,
    opens: '2020-01-01T00:00:00Z',
    closes: new Date(closesAt).toISOString(),
    sampleRoll: { seed: ELECTION, size: 300 },
  };
  writeFileSync(path, `${JSON.stringify(election, null, 2)}\n`);
  await initElection(path);
  return path;
}

/** Signs an event with the operator's key and produces it acks=all to partition 0; resolves at the ack. */
async function emit(
  type: ElectionEventRecord['type'],
  detail: string,
  extra: Partial<ElectionEventRecord> = {},
): Promise<{ event: ElectionEventRecord; ackedAt: number }> {
  const event = signEvent(
    { v: 1, id: newEventId(), election: ELECTION, type, at: Date.now(), by: OPERATOR, detail, ...extra },
    operatorKey,
  );
  await producer.send({
    topic: TOPICS.electionEvents,
    acks: -1,
    messages: [{ partition: ELECTION_EVENTS_PARTITION, key: event.id, value: JSON.stringify(event) }],
  });
  return { event, ackedAt: Date.now() };
}

interface Answer {
  readonly status: number;
  readonly body: Wire;
  readonly retryAfter: string | undefined;
}

/** One request on a connection of its own (no keep-alive), so SO_REUSEPORT picks a worker afresh. */
function fresh(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port: PORT,
        method,
        path,
        agent: false,
        headers: {
          connection: 'close',
          ...headers,
          ...(data === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? null : JSON.parse(text),
            retryAfter: res.headers['retry-after'] as string | undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** `SPREAD` probes, each on a fresh connection. */
const spread = (probe: () => Promise<Answer>): Promise<Answer[]> =>
  Promise.all(Array.from({ length: SPREAD }, probe));

/** Polls until every probe of a round passes `ok`; the time from `since`, failing past 5 s. */
async function within(since: number, probe: () => Promise<Answer>, ok: (a: Answer) => boolean) {
  let last: Answer[] = [];
  while (Date.now() - since <= WITHIN_MS) {
    last = await spread(probe);
    if (last.every(ok)) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${WITHIN_MS} ms: ${JSON.stringify(last.map((a) => [a.status, a.body]))}`);
}

/** A ballot whose credential does not verify: refused by the commission's checks, else `invalid_credential`. */
function probeBallot(choice: string): Promise<Answer> {
  return fresh(
    'POST',
    '/v1/ballots',
    ballotBody({ message: 'A'.repeat(86), signature: 'A'.repeat(342) }, choice),
  );
}

function ballotBody({ message, signature }: { message: string; signature: string }, choice: string) {
  return {
    election: ELECTION,
    district: DISTRICT,
    credential: { message, signature },
    selections: [{ race: RACE, choices: [choice] }],
  };
}

const codeOf = (a: Answer): string | undefined => a.body?.error?.code;

/** Each worker whose log says it applied `event`: pid → when (its log line's time). */
function appliedBy(event: ElectionEventRecord): Map<number, number> {
  const workers = new Map<number, number>();
  for (const line of ingest.output().split('\n')) {
    if (!line.includes(event.id) || !line.includes('election event applied')) continue;
    const { pid, time } = JSON.parse(line);
    workers.set(pid, Date.parse(time));
  }
  return workers;
}

/** Both workers applied `event`, each within 5 s of its ack (log lines may reach us a little later). */
async function appliedByBoth(event: ElectionEventRecord, ackedAt: number): Promise<void> {
  await expect.poll(() => appliedBy(event).size, { timeout: 10_000 }).toBe(2);
  for (const at of appliedBy(event).values()) expect(at - ackedAt).toBeLessThanOrEqual(WITHIN_MS);
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations (as test/client.voter.test.ts runs it). */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => {
    const g = globalThis as unknown as {
      axe: { run(c: unknown, o: unknown): Promise<unknown> };
      document: unknown;
    };
    return g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
  });
  return (result as { violations: { id: string; impact: string }[] }).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id);
}

async function credential() {
  const member = members[nextMember++]!;
  return client().credential(member.memberId, member.district);
}

beforeAll(async () => {
  const path = await prepare();
  index = loadElection(path);
  operatorKey = createPrivateKey(readFileSync(operatorKeyPath(config.stackDir, ELECTION, OPERATOR)));
  producer = kafkaClient('commission-live-test').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  expect(Date.now(), '`election init` took too long for the closing time to lie ahead').toBeLessThan(
    closesAt - 2_000,
  );
  await emit('extended', 'Queues at the polling stations.', {
    until: new Date(closesAt + 3_600_000).toISOString(),
  });
  ingest = await startIngest({
    election: path,
    port: PORT,
    processes: 2,
    // Info: each worker logs the events it applies (the proof both did); a ballot is written at once.
    env: { LOG_LEVEL: 'info', INGEST_MIX_MIN_BALLOTS: '1' },
  });
  const list = await api(ingest.base, 'GET', `/v1/dev/members?election=${ELECTION}&limit=50`);
  members = list.body.members.filter((m: { district: string }) => m.district === DISTRICT);
  // `/readyz` answered for one worker: wait for both (each catches up with the events on its own).
  for (const deadline = Date.now() + 30_000; ; ) {
    const answers = await spread(() => fresh('GET', `/v1/elections/${ELECTION}/status`));
    if (answers.every((a) => a.status === 200)) break;
    if (Date.now() > deadline) throw new Error('a worker did not catch up with the events in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const race = index.race(RACE)!;
  [removed, kept] = race.candidates.filter((c) => c.status === 'active').map((c) => c.id) as [string, string];
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ingest?.stop();
  await producer?.disconnect();
  await source?.close();
  await forgetElection(config, ELECTION);
});

/** The receipt of the ballot cast after the old closing time (resent after the close). */
let extendedReceipt: string | undefined;

describe('the commission, live on every ingest worker', () => {
  /** Credentials issued while voting runs, cast later (after the removal, after the old closing time). */
  const held: { message: string; signature: string }[] = [];
  let token: string;

  it('extend: the closing time moves within 5 s', async () => {
    const before = await api(ingest.base, 'GET', `/v1/elections/${ELECTION}/status`);
    expect(before.headers.get('cache-control')).toBe('no-store');
    expect(before.body).toMatchObject({
      phase: 'open',
      closes: new Date(closesAt + 3_600_000).toISOString(),
    });
    held.push(await credential(), await credential(), await credential());
    token = await client().login(members[nextMember++]!.memberId);

    const until = new Date(closesAt + 7_200_000).toISOString();
    const { event, ackedAt } = await emit('extended', 'Still queues.', { until });
    const ms = await within(
      ackedAt,
      () => fresh('GET', `/v1/elections/${ELECTION}/status`),
      (a) => a.body?.closes === until && a.body?.head === event.id,
    );
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
  });

  it('remove: ballots naming the candidate are refused on every worker within 5 s; the earlier one stays', async () => {
    const before = await api(ingest.base, 'POST', '/v1/ballots', ballotBody(held[0]!, removed));
    expect(before.status).toBe(201);

    const { event, ackedAt } = await emit('candidate-removed', 'Vote buying proven by the committee.', {
      race: RACE,
      candidate: removed,
      reference: 'CEC-2020-17',
    });
    const ms = await within(
      ackedAt,
      () => probeBallot(removed),
      (a) => a.status === 422 && codeOf(a) === 'candidate_removed',
    );
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    await appliedByBoth(event, ackedAt);
    // Another candidate of the race is still standing (the refusal is about this one only).
    for (const a of await spread(() => probeBallot(kept))) expect(codeOf(a)).toBe('invalid_credential');
    const status = await api(ingest.base, 'GET', `/v1/elections/${ELECTION}/status`);
    expect(status.body.candidates[RACE]).toMatchObject({ [removed]: 'removed' });
    // The earlier ballot is in the log: its credential cannot cast another (the voter page shows its
    // receipt on this 409), and its identical resend (the first answer lost) is answered as repeated,
    // with its receipt, though it names the removed candidate: the log took it before the removal.
    const other = await api(ingest.base, 'POST', '/v1/ballots', ballotBody(held[0]!, kept));
    expect([other.status, other.body.error.code]).toEqual([409, 'credential_already_used']);
    for (const again of await spread(() => fresh('POST', '/v1/ballots', ballotBody(held[0]!, removed))))
      expect([again.status, again.body?.receipt]).toEqual([200, before.body.receipt]);
  });

  it('pause: issuance and casting answer election_paused with reason and until within 5 s', async () => {
    const reason = 'Power cut at the data centre.';
    const until = new Date(Date.now() + 1_800_000).toISOString();
    const { event, ackedAt } = await emit('paused', reason, { until });
    const ms = await within(
      ackedAt,
      () => probeBallot(kept),
      (a) => a.status === 503 && codeOf(a) === 'election_paused',
    );
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    await appliedByBoth(event, ackedAt);
    const [cast] = await spread(() => probeBallot(kept));
    expect(cast!.retryAfter).toBe('30');
    expect(cast!.body.error.message).toContain(reason);
    expect(cast!.body.error.message).toContain(until);
    for (const issue of await spread(() =>
      fresh(
        'POST',
        '/v1/credentials',
        { election: ELECTION, blindedMessage: 'AAAA' },
        { authorization: `Bearer ${token}` },
      ),
    )) {
      expect([issue.status, codeOf(issue), issue.retryAfter]).toEqual([503, 'election_paused', '30']);
      expect(issue.body.error.message).toContain(reason);
    }
    const status = await api(ingest.base, 'GET', `/v1/elections/${ELECTION}/status`);
    expect(status.body).toMatchObject({ phase: 'paused', pause: { reason, until } });
  });

  it('the voter page shows the pause and the removed candidate as no longer standing', async () => {
    browser = await launchChromium();
    const context = await browser.newContext({ locale: 'en', viewport: { width: 412, height: 915 } });
    // A voter with a credential, on the ballot step (only the page's display is under test here).
    await context.addInitScript(
      ([key, vote]) =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem(key, vote),
      [
        `saylau:vote:${ELECTION}`,
        JSON.stringify({ phase: 'ballot', district: DISTRICT, message: 'x', signature: 'y' }),
      ] as const,
    );
    const page = await context.newPage();
    await page.goto(`${ingest.base}/`);
    await page.locator('#banner.paused').waitFor();
    expect(await page.locator('#banner').textContent()).toContain('Power cut at the data centre.');
    expect(await page.locator('#banner').getAttribute('role')).toBe('status');
    const box = page.locator(`#c-${RACE}-${removed}`);
    await box.waitFor();
    expect(await box.isDisabled()).toBe(true);
    const why = page.locator(`#c-${RACE}-${removed}-why`);
    expect(await why.textContent()).toMatch(/no longer standing/i);
    expect(await box.getAttribute('aria-describedby')).toBe(`c-${RACE}-${removed}-why`);
    expect(await page.locator(`#c-${RACE}-${kept}`).isDisabled()).toBe(false);
    expect(await axe(page)).toEqual([]);
    // Kazakh and Russian: the banner and the candidate's line in each language, the reason as given.
    const english = await page.locator('#banner').textContent();
    for (const lang of ['kk', 'ru']) {
      await page.locator(`#langs button[data-lang="${lang}"]`).click();
      await expect.poll(() => page.locator('#banner').textContent()).not.toBe(english);
      expect(await page.locator('#banner').textContent()).toContain('Power cut at the data centre.');
      expect(await why.textContent()).not.toMatch(/no longer standing/i);
      expect(await axe(page)).toEqual([]);
    }
    await context.close();
  });

  it('resume: accepted again within 5 s', async () => {
    const { ackedAt } = await emit('resumed', 'Power restored.');
    const ms = await within(
      ackedAt,
      () => probeBallot(kept),
      (a) => codeOf(a) === 'invalid_credential',
    );
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    expect((await api(ingest.base, 'POST', '/v1/ballots', ballotBody(held[1]!, kept))).status).toBe(201);
    expect((await api(ingest.base, 'GET', `/v1/elections/${ELECTION}/status`)).body).toMatchObject({
      phase: 'open',
      pause: null,
    });
  });

  it('a ballot after the old closing time is accepted (extended)', async () => {
    const wait = closesAt + 500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const after = await api(ingest.base, 'POST', '/v1/ballots', ballotBody(held[2]!, kept));
    expect(after.status).toBe(201);
    extendedReceipt = after.body.receipt;
  }, 60_000);

  it('close: election_closed within 5 s', async () => {
    const { ackedAt } = await emit('closed', 'Voting time is over.');
    const ms = await within(
      ackedAt,
      () => probeBallot(kept),
      (a) => a.status === 403 && codeOf(a) === 'election_closed',
    );
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    const issue = await fresh(
      'POST',
      '/v1/credentials',
      { election: ELECTION, blindedMessage: 'AAAA' },
      { authorization: `Bearer ${token}` },
    );
    expect([issue.status, codeOf(issue)]).toEqual([403, 'election_closed']);
    expect((await api(ingest.base, 'GET', `/v1/elections/${ELECTION}/status`)).body.phase).toBe('closed');
    // A ballot taken before the close, sent again after it (its answer lost): repeated, not refused.
    for (const again of await spread(() => fresh('POST', '/v1/ballots', ballotBody(held[2]!, kept))))
      expect([again.status, again.body?.receipt]).toEqual([200, extendedReceipt]);
    // Whichever worker answers the scrape applied every event (two extensions, removal, pause, resume, close).
    const metrics = await api(ingest.ops, 'GET', '/metrics');
    expect(metrics.body).toMatch(/saylau_election_events_total\{result="applied"\} 6\n/);
  });

  it('the ballot cast before the removal is in the tally, shown in the snapshot and outside the valid total', async () => {
    const logger = createLogger('commission-live-test', 'warn');
    const keys = await readPublisherKeys(config.stackDir, ELECTION);
    const dir = join(outputDir, `${ELECTION}-public`);
    const store = new SnapshotStore(dir);
    await store.open();
    source = new ClickHouseSource(config, logger, index, 60_000);
    const scheduler = new SnapshotScheduler({
      index,
      source,
      roll: rollSourceFor(index, () => {
        throw new Error('the sample roll needs no Redis');
      }),
      store,
      privateKey: keys.snapshot.privateKey,
      districtKeys: fakeDistrictKeys(index),
      stations: keys.stations,
      metrics: new PublisherMetrics(),
      logger,
      intervalMs: 60_000,
      settleTimeoutMs: 60_000,
    });
    // ClickHouse takes the records in blocks: until all three ballots and the removal are in.
    let race: Wire;
    await expect
      .poll(
        async () => {
          const snapshot = await scheduler.runOnce().catch(() => null);
          race = snapshot?.races.find((r) => r.id === RACE);
          return race?.total;
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toMatchObject({ excluded: 1, valid: 2 });
    const tally = await source.tally(ELECTION);
    expect(tally.filter((row) => row.candidate === removed).reduce((n, row) => n + row.votes, 0)).toBe(1);
    expect(race.candidates.find((c: { id: string }) => c.id === removed)).toMatchObject({
      status: 'removed',
    });
    expect(race.total.candidates.find((c: { id: string }) => c.id === removed)).toMatchObject({ total: 1 });
  }, 90_000);
});
