/**
 * The observers' feed (`/v1/observe/feed` on the publisher's port) against a
 * real ingest (two processes), publisher and stack:
 * - no token, a bad token, a voter's token, an official's token, and silence
 *   are each refused with their close code (4401 / 4403) and the code as the reason;
 * - an observer sees turnout per region and district equal to what this
 *   test issued, cast and checked in on paper; both ingest processes'
 *   health beacons, accepting; and the chain head of the latest snapshot;
 * - a signed commission action (pause, then resume) produced to `election-events`
 *   shows within 5 s with its operator and reason, and the phase follows it;
 * - nothing in the feed names a member, a ballot id, a receipt or a token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELECTION_EVENTS_PARTITION, type ElectionEventRecord, TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  issueDevStaffToken,
  issueDevToken,
  listSampleMembers,
  newEventId,
  readKeys,
  signEvent,
} from '../election/index.js';
import { snapshotHash } from '../publisher/signer.js';
import {
  api,
  forgetElection,
  type Ingest,
  startIngest,
  VoterClient,
  validSelections,
} from './ingest.harness.js';
import {
  FeedClient,
  feedUrl,
  outputDir,
  type Publisher,
  prepareTinyElection,
  startPublisher,
} from './observers.support.js';
import { checkIn } from './paper.harness.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const INGEST_PORT = testPort(18_780);
const PUBLISHER_PORT = testPort(18_781);
const ELECTION = `observers-${Date.now().toString(36)}`;
/** What this test does, per district: credentials issued and used online, paper check-ins. */
const PLAN: Record<string, { cast: number; issuedOnly: number; paper: number }> = {
  'D-71-1': { cast: 3, issuedOnly: 1, paper: 2 },
  'D-75-1': { cast: 2, issuedOnly: 0, paper: 0 },
  'D-75-2': { cast: 0, issuedOnly: 1, paper: 1 },
};
const PRECINCT_OF: Record<string, { precinct: string; official: string }> = {
  'D-71-1': { precinct: 'P-71-1', official: 'O-71-1-a' },
  'D-75-2': { precinct: 'P-75-1', official: 'O-75-1-a' },
};

let index: ElectionIndex;
let keys: ElectionKeys;
let ingest: Ingest;
let publisher: Publisher;
const clients: FeedClient[] = [];
/** Everything that must never appear in the feed. */
const secrets: string[] = [];

function watch(first?: string): FeedClient {
  const client = new FeedClient(feedUrl(PUBLISHER_PORT), first);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const prepared = await prepareTinyElection(ELECTION);
  index = prepared.index;
  keys = await readKeys(config.stackDir, ELECTION);
  // One after the other: a start that fails must not leave the other process behind, unstopped.
  publisher = await startPublisher({
    election: prepared.path,
    port: PUBLISHER_PORT,
    publicDir: join(outputDir, `${ELECTION}-public`),
  });
  ingest = await startIngest({
    election: prepared.path,
    port: INGEST_PORT,
    processes: 2,
    readyTimeoutMs: 180_000,
  });
}, 240_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([ingest?.stop(), publisher?.stop()]);
  await forgetElection(config, ELECTION);
});

describe("who may open the observers' feed", () => {
  it('refuses no token, a bad token, a voter, an official and silence, each with its close code', async () => {
    const member = listSampleMembers(index, 0, 1)[0]!;
    const voter = await issueDevToken(keys, index, member.memberId);
    const official = await issueDevStaffToken(keys, index, {
      role: 'official',
      id: 'O-71-1-a',
      precinct: 'P-71-1',
    });
    const cases = {
      noToken: watch('{}'),
      notJson: watch('hello'),
      badToken: watch(JSON.stringify({ token: 'e30.e30.c2ln' })),
      voter: watch(JSON.stringify({ token: voter })),
      official: watch(JSON.stringify({ token: official })),
      silent: watch(),
    };
    const closed = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([k, c]) => [k, await c.closed] as const)),
    );
    expect(closed).toEqual({
      noToken: { code: 4401, reason: 'unauthorized' },
      notJson: { code: 4401, reason: 'unauthorized' },
      badToken: { code: 4401, reason: 'unauthorized' },
      voter: { code: 4403, reason: 'token_wrong_role' },
      official: { code: 4403, reason: 'token_wrong_role' },
      silent: { code: 4401, reason: 'unauthorized' },
    });
    for (const c of Object.values(cases)) expect(c.views).toEqual([]);
  }, 30_000);
});

describe('what an observer sees', () => {
  let observer: FeedClient;

  beforeAll(async () => {
    const token = await issueDevStaffToken(keys, index, { role: 'observer', id: 'press-1' });
    observer = watch(JSON.stringify({ token }));
    secrets.push(token);
    const voters = new VoterClient(ingest.base, ELECTION);
    const members = listSampleMembers(index, 0, 600);
    const take = (district: string) => {
      const i = members.findIndex((m) => m.district === district);
      return members.splice(i, 1)[0]!.memberId;
    };
    for (const [district, plan] of Object.entries(PLAN)) {
      for (let i = 0; i < plan.cast + plan.issuedOnly; i++) {
        const memberId = take(district);
        secrets.push(memberId);
        const credential = await voters.credential(memberId, district);
        secrets.push(credential.message, credential.signature);
        if (i >= plan.cast) continue;
        const cast = await api(ingest.base, 'POST', '/v1/ballots', {
          election: ELECTION,
          district,
          credential: { message: credential.message, signature: credential.signature },
          selections: validSelections(index, district),
        });
        expect(cast.status).toBe(201);
        secrets.push(cast.body.ballotId, cast.body.receipt);
      }
      const station = PRECINCT_OF[district];
      if (station === undefined) continue;
      const official = await issueDevStaffToken(keys, index, {
        role: 'official',
        id: station.official,
        precinct: station.precinct,
      });
      for (let i = 0; i < plan.paper; i++) {
        const memberId = take(district);
        secrets.push(memberId);
        expect((await checkIn(ingest.base, ELECTION, official, memberId)).status).toBe(200);
      }
    }
  }, 120_000);

  it('turnout per region and district equals what was issued, cast and checked in', async () => {
    const districtsNow = () => {
      const view = observer.latest;
      if (view === undefined) return null;
      return Object.fromEntries(
        view.turnout.regions.flatMap((r) =>
          r.districts.map((d) => [
            d.id,
            { issuedOnline: d.issuedOnline, paperCheckIns: d.paperCheckIns, castOnline: d.castOnline },
          ]),
        ),
      );
    };
    const want = Object.fromEntries(
      Object.entries(PLAN).map(([d, p]) => [
        d,
        { issuedOnline: p.cast + p.issuedOnly, paperCheckIns: p.paper, castOnline: p.cast },
      ]),
    );
    await expect
      .poll(districtsNow, {
        timeout: 60_000,
        interval: 500,
        message: `closed: ${JSON.stringify(observer.closedWith)}`,
      })
      .toEqual(want);
    const view = observer.latest!;
    expect(view).toMatchObject({
      v: 1,
      election: ELECTION,
      phase: 'open',
      pause: null,
      closes: index.config.closes,
    });
    const region = (code: string) => view.turnout.regions.find((r) => r.code === code)!;
    expect(region('KZ-71')).toMatchObject({ issuedOnline: 4, paperCheckIns: 2, castOnline: 3 });
    expect(region('KZ-75')).toMatchObject({ issuedOnline: 3, paperCheckIns: 1, castOnline: 2 });
    expect(view.turnout.total).toMatchObject({ issuedOnline: 7, paperCheckIns: 3, castOnline: 5, roll: 600 });
    // Updates keep coming on the tick: at least a few views within 6 s.
    const before = observer.views.length;
    await new Promise((r) => setTimeout(r, 6_000));
    expect(observer.views.length - before).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it("shows both ingest processes' health beacons: accepting", async () => {
    await expect
      .poll(() => observer.latest?.ingest, { timeout: 20_000, interval: 500 })
      .toEqual({ processes: 2, accepting: 2, paused: 0, overloaded: 0 });
  }, 30_000);

  it('carries the chain head of the latest snapshot', async () => {
    const latestHead = () => {
      const latest = JSON.parse(readFileSync(join(publisher.publicDir, 'latest.json'), 'utf8'));
      return { seq: latest.seq, hash: snapshotHash(latest), takenAt: latest.takenAt };
    };
    await expect
      .poll(
        () => {
          const chain = observer.latest?.chain;
          if (chain === undefined || chain.seq === 0) return false;
          return JSON.stringify(chain) === JSON.stringify(latestHead());
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
  }, 70_000);

  it('shows a signed commission action within 5 s with its operator and reason, and the phase follows', async () => {
    const [operator, key] = [...keys.operators.entries()][0]!;
    const producer = kafkaClient('observers-feed-test').producer();
    await producer.connect();
    const act = async (type: 'paused' | 'resumed', detail: string): Promise<ElectionEventRecord> => {
      const record = signEvent(
        { v: 1, id: newEventId(), election: ELECTION, type, at: Date.now(), by: operator, detail },
        key.privateKey,
      );
      await producer.send({
        topic: TOPICS.electionEvents,
        acks: -1,
        messages: [{ key: record.id, value: JSON.stringify(record), partition: ELECTION_EVENTS_PARTITION }],
      });
      return record;
    };
    const seen = (id: string) => observer.latest?.actions.find((a) => a.id === id);
    try {
      const pause = await act('paused', 'Observers test: a fault at a data centre');
      const paused = Date.now();
      await expect.poll(() => seen(pause.id), { timeout: 5_000, interval: 100 }).toBeDefined();
      expect(Date.now() - paused).toBeLessThan(5_000);
      expect(seen(pause.id)).toEqual({
        id: pause.id,
        type: 'paused',
        at: pause.at,
        by: operator,
        detail: 'Observers test: a fault at a data centre',
        race: null,
        candidate: null,
        reference: null,
        until: null,
      });
      expect(observer.latest).toMatchObject({
        phase: 'paused',
        pause: { reason: 'Observers test: a fault at a data centre', until: null },
      });
      const resume = await act('resumed', 'Observers test: fixed');
      await expect.poll(() => seen(resume.id), { timeout: 5_000, interval: 100 }).toBeDefined();
      expect(observer.latest).toMatchObject({ phase: 'open', pause: null });
      expect(observer.latest!.actions.map((a) => a.id)).toEqual([pause.id, resume.id]);
    } finally {
      await producer.disconnect();
    }
  }, 30_000);

  it('never carries a member id, credential, ballot id, receipt or token, nor a time finer than a second', () => {
    expect(observer.raw.length).toBeGreaterThan(0);
    for (const text of observer.raw) {
      for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
      expect(Object.keys(JSON.parse(text)).sort()).toEqual(
        [
          'v',
          'at',
          'election',
          'phase',
          'pause',
          'closes',
          'turnout',
          'ingest',
          'actions',
          'reports',
          'chain',
        ].sort(),
      );
      expect(JSON.parse(text).at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });
});
