/**
 * A paper day's results on the real stack (issue 15): paper check-ins,
 * online ballots, protocols and a dissent, all through the real ingest
 * (check-ins while the stations are open, protocols after they close), then a snapshot
 * built by the publisher from what ClickHouse counted, after reconcile.
 *
 * It shows the online/paper split, precincts reported out of all, a
 * corrected protocol's higher version, a protocol rejected because it
 * issued more papers than members were checked in (shown with its reason,
 * left out of the counts, the snapshot still published) and the dissent.
 *
 * It also writes losing issuance records straight to Kafka, as a fault
 * leaves them (a held ledger key expired, Redis lost data): a member checked
 * in on paper then issued an online credential, a member with an online
 * credential then checked in on paper, and a member checked in at two
 * stations of one district. "First issuance wins" (DESIGN §3): each of them
 * counts as a check-in nowhere until its winner is known, so a station that
 * handed them papers is rejected (its count is checked against real
 * check-ins only), and Σ accepted issued never exceeds the region's
 * issuedPaper: the snapshot is still published (counting every paper record,
 * the two-station member made the region's totals inconsistent and blocked it).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { createLogger } from '../common/log.js';
import {
  type IssuanceRecord,
  minuteBucket,
  paperCheckInHash,
  RECORD_VERSION,
  TOPICS,
} from '../common/records.js';
import { type ElectionIndex, readKeys, readPublisherKeys, voterHash } from '../election/index.js';
import { issuanceEntry } from '../ingest/ledger/entries.js';
import { ClickHouseSource } from '../publisher/clickhouse-source.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { rollSourceFor } from '../publisher/roll-source.js';
import { SnapshotScheduler } from '../publisher/scheduler.js';
import type { Snapshot } from '../publisher/snapshot.js';
import { SnapshotStore } from '../publisher/snapshot-store.js';
import { publishedFiles, verifyPublished } from '../publisher/verify.js';
import {
  api,
  forgetElection,
  type Ingest,
  startIngest,
  VoterClient,
  validSelections,
} from './ingest.harness.js';
import { checkIn, membersByDistrict, officialsOf, outcomeOf, untilFinal } from './paper.harness.js';
import { preparePaperElection, signedProtocolOf, staffToken } from './paper.support.js';
import { fakeDistrictKeys } from './publisher.fixtures.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_743);
const ELECTION = `paper-results-${Date.now().toString(36)}`;
/** Corrected (v2), rejected (issued > check-ins), accepted with a dissent. */
const [CORRECTED, REJECTED, DISSENTED] = ['P-10-1', 'P-10-2', 'P-10-3'];
const CHECK_INS = { [CORRECTED]: 20, [REJECTED]: 10, [DISSENTED]: 5 };
const ONLINE = 4;
/**
 * Losing issuance records (faults): two stations of one district, and a third elsewhere.
 * AT_P: 3 members checked in only here, plus PAPER_THEN_ONLINE and TWO_STATIONS (real check-ins);
 * AT_P2: 2 members, plus TWO_STATIONS's losing check-in; AT_Q: 3 members, plus ONLINE_THEN_PAPER's losing one.
 */
const [AT_P, AT_P2, AT_Q] = ['P-23-1', 'P-23-3', 'P-33-1'];
/** What each station's commission reports handing out: every member it checked in, the conflicted too. */
const FAULTED_ISSUED = { [AT_P]: 5, [AT_P2]: 3, [AT_Q]: 3 };

let index: ElectionIndex;
let ingest: Ingest;
let dir: string;
let source: ClickHouseSource;
let snapshot: Snapshot;
let scheduler: SnapshotScheduler;
let spki: string;
let byDistrict: Map<string, string[]>;

/**
 * Members of each precinct's district checked in there, through the real
 * check-in route, every station at once; then the members who voted online
 * (castOnline ran first) come to a station and are refused with the code that
 * says so — and nothing else.
 */
async function checkIns(): Promise<void> {
  const keys = await readKeys(config.stackDir, index.id);
  const officials = await officialsOf(index, keys);
  const officialOf = (precinct: string) => officials.find((o) => o.precinct === precinct)!;
  await Promise.all(
    Object.entries(CHECK_INS).map(async ([precinct, n]) => {
      const official = officialOf(precinct);
      const members = byDistrict.get(official.district)!.slice(0, n);
      expect(members).toHaveLength(n);
      const answers = await Promise.all(
        members.map((m) => untilFinal(() => checkIn(ingest.base, index.id, official.token, m))),
      );
      expect(answers.map(outcomeOf)).toEqual(members.map(() => 'checked_in'));
    }),
  );
  const official = officialOf(CORRECTED);
  const votedOnline = byDistrict.get(official.district)!.slice(-ONLINE);
  const refused = await Promise.all(
    votedOnline.map((m) => untilFinal(() => checkIn(ingest.base, index.id, official.token, m))),
  );
  expect(refused.map(outcomeOf)).toEqual(votedOnline.map(() => 'already_issued_online'));
}

/**
 * The three faults: real check-ins and credentials through ingest, then each
 * losing record written to Kafka as the ledger writes its entry (same
 * partition, same value), as if a held key had expired before it.
 */
async function faultedIssuance(): Promise<void> {
  const keys = await readKeys(config.stackDir, index.id);
  const officials = await officialsOf(index, keys);
  const tokenOf = (precinct: string) => officials.find((o) => o.precinct === precinct)!.token;
  const checkedIn = async (precinct: string, members: readonly string[]) => {
    const answers = await Promise.all(
      members.map((m) => untilFinal(() => checkIn(ingest.base, index.id, tokenOf(precinct), m))),
    );
    expect(answers.map(outcomeOf)).toEqual(members.map(() => 'checked_in'));
  };
  const d23 = byDistrict.get('D-23-1')!;
  const [paperThenOnline, twoStations] = [d23[0]!, d23[1]!];
  await checkedIn(AT_P, [...d23.slice(2, 5), paperThenOnline, twoStations]);
  await checkedIn(AT_P2, d23.slice(5, 7));
  const d33 = byDistrict.get('D-33-1')!;
  const onlineThenPaper = d33[d33.length - 1]!;
  await checkedIn(AT_Q, d33.slice(0, 3));
  await new VoterClient(ingest.base, index.id).credential(onlineThenPaper, 'D-33-1');

  const losing = (member: string, district: string, precinct: string | null): IssuanceRecord => ({
    v: RECORD_VERSION,
    election: index.id,
    region: index.district(district)!.region,
    district,
    voterHash: voterHash(keys.pepper, member),
    blindedHash:
      precinct === null
        ? createHash('sha256').update(`${index.id}/${member}/second credential`).digest('hex')
        : paperCheckInHash(precinct),
    channel: precinct === null ? 'online' : 'paper',
    bucket: minuteBucket(Date.now()),
    ...(precinct === null ? {} : { precinct }),
  });
  const records = [
    losing(paperThenOnline, 'D-23-1', null),
    losing(onlineThenPaper, 'D-33-1', AT_Q),
    losing(twoStations, 'D-23-1', AT_P2),
  ];
  const producer = kafkaClient('saylau-paper-results-test').producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({
      topic: TOPICS.issuance,
      acks: -1,
      messages: records.map((r) => {
        const entry = issuanceEntry(r, index.partitionsFor(r.region));
        return { value: entry.value, partition: entry.partition, timestamp: String(entry.timestampMs) };
      }),
    });
  } finally {
    await producer.disconnect();
  }
}

async function castOnline(district: string): Promise<void> {
  const client = new VoterClient(ingest.base, index.id);
  // From the end of the district's list: the check-ins take its first members (one member, one channel).
  const members = byDistrict.get(district)!.slice(-ONLINE);
  expect(members).toHaveLength(ONLINE);
  await Promise.all(
    members.map(async (m) => {
      const credential = await client.credential(m, district);
      const res = await api(ingest.base, 'POST', '/v1/ballots', {
        election: index.id,
        district,
        credential: { message: credential.message, signature: credential.signature },
        selections: validSelections(index, district),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }),
  );
}

beforeAll(async () => {
  let path: string;
  // The stations close a little after ingest is up: check-ins first, then (closed) the protocols.
  const closes = Date.now() + 75_000;
  const closesIso = new Date(Math.ceil(closes / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  ({ index, path } = await preparePaperElection(ELECTION, [], 5_000, closesIso));
  byDistrict = membersByDistrict(index, 5_000);
  ingest = await startIngest({ election: path, port: PORT });
  await castOnline('D-10-1');
  await checkIns();
  await faultedIssuance();
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(closesIso) - Date.now() + 500)));

  const submit = async (precinct: string, p: Parameters<typeof signedProtocolOf>[2]) => {
    const token = await staffToken(index, { role: 'official', id: `O-${precinct.slice(2)}-a`, precinct });
    const res = await api(
      ingest.base,
      'POST',
      '/v1/paper/protocols',
      await signedProtocolOf(index, precinct, p),
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  await submit(CORRECTED, { issued: 18, spoiled: 1 });
  await submit(CORRECTED, {
    version: 2,
    reason: 'recount of box 2',
    issued: 19,
    spoiled: 1,
    votes: (_race, i) => [10, 8][i] ?? 0,
  });
  await submit(REJECTED, { issued: 12 });
  await submit(DISSENTED, { issued: 5 });
  for (const [precinct, issued] of Object.entries(FAULTED_ISSUED)) await submit(precinct, { issued });
  const observer = await staffToken(index, { role: 'observer', id: 'obs-3' });
  const dissent = await api(
    ingest.base,
    'POST',
    `/v1/paper/protocols/${DISSENTED}/dissents`,
    { election: index.id, version: 1, text: 'Count started before the observers arrived.' },
    { authorization: `Bearer ${observer}` },
  );
  expect(dissent.status).toBe(201);

  dir = await mkdtemp(join(tmpdir(), 'saylau-paper-results-'));
  const logger = createLogger('paper-results-test', 'warn');
  const keys = await readPublisherKeys(config.stackDir, index.id);
  spki = keys.snapshot.spki;
  const store = new SnapshotStore(dir);
  await store.open();
  source = new ClickHouseSource(config, logger, index, 120_000);
  scheduler = new SnapshotScheduler({
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
    settleTimeoutMs: 120_000,
  });
  // ClickHouse takes the records in blocks: publish once everything is in (reconcile passing says so).
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      snapshot = await scheduler.runOnce();
      if (snapshot.precincts?.find((p) => p.id === DISSENTED)?.dissents.length === 1) break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}, 400_000);

afterAll(async () => {
  await ingest?.stop();
  await source?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  await forgetElection(config, ELECTION);
});

describe('a paper day in the published snapshot', () => {
  it('is reconciled and published, and verifies', async () => {
    expect(snapshot.v).toBe(5);
    expect((await source.reconcile(index.id)).problems).toEqual([]);
    await expect(verifyPublished(publishedFiles(dir), { spki })).resolves.toMatchObject({
      election: index.id,
    });
    const table = await readFile(join(dir, `snapshots/${snapshot.seq}.precincts.csv`), 'utf8');
    expect(table.split('\n')[0]).toBe(
      'precinct,region,district,status,rejection,version,reason,issued,spoiled,unused,check_ins,key_id,signature,dissents',
    );
    expect(table).toContain(
      `${REJECTED},KZ-10,D-10-2,rejected,issued: 12 ballot papers issued but 10 members checked in at P-10-2,1,,12,`,
    );
    expect(table).toContain('v1 obs-3: Count started before the observers arrived.');
  });

  it('shows each precinct: the corrected version, the rejected one with its reason, the dissent', () => {
    const byId = new Map(snapshot.precincts!.map((p) => [p.id, p]));
    expect(snapshot.precincts).toHaveLength(index.config.paperPrecincts.length);
    expect(byId.get(CORRECTED)).toMatchObject({
      status: 'accepted',
      version: 2,
      reason: 'recount of box 2',
      issued: 19,
      spoiled: 1,
      checkIns: 20,
      rejection: '',
    });
    expect(byId.get(CORRECTED)!.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(byId.get(CORRECTED)!.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(byId.get(REJECTED)).toMatchObject({ status: 'rejected', version: 1, issued: 12, checkIns: 10 });
    expect(byId.get(REJECTED)!.rejection).toBe(
      'issued: 12 ballot papers issued but 10 members checked in at P-10-2',
    );
    expect(byId.get(DISSENTED)).toMatchObject({ status: 'accepted', version: 1 });
    expect(byId.get(DISSENTED)!.dissents).toEqual([
      { version: 1, author: 'obs-3', text: 'Count started before the observers arrived.' },
    ]);
    expect(byId.get('P-11-1')).toMatchObject({ status: 'missing', version: 0 });
  });

  it('counts a member with a losing issuance record as checked in nowhere, and still publishes', async () => {
    const byId = new Map(snapshot.precincts!.map((p) => [p.id, p]));
    expect(byId.get(AT_P)).toMatchObject({ status: 'rejected', issued: 5, checkIns: 3 });
    expect(byId.get(AT_P)!.rejection).toBe(
      `issued: 5 ballot papers issued but 3 members checked in at ${AT_P}`,
    );
    expect(byId.get(AT_P2)).toMatchObject({ status: 'rejected', issued: 3, checkIns: 2 });
    expect(byId.get(AT_Q)).toMatchObject({ status: 'accepted', issued: 3, checkIns: 3 });
    const rows = await source.paperCheckIns(index.id);
    expect(rows.filter((r) => r.precinct in FAULTED_ISSUED)).toEqual([
      { precinct: AT_P, region: 'KZ-23', district: 'D-23-1', checkIns: 3, conflicted: 2 },
      { precinct: AT_P2, region: 'KZ-23', district: 'D-23-1', checkIns: 2, conflicted: 1 },
      { precinct: AT_Q, region: 'KZ-33', district: 'D-33-1', checkIns: 3, conflicted: 1 },
    ]);
    // Σ accepted issued ≤ issuedPaper, region by region (publisher/totals.ts refuses a snapshot otherwise).
    for (const region of snapshot.turnout.regions) {
      const issued = snapshot
        .precincts!.filter((p) => p.region === region.code && p.status === 'accepted')
        .reduce((n, p) => n + p.issued, 0);
      expect(issued, region.code).toBeLessThanOrEqual(region.issuedPaper);
    }
  });

  it('counts precincts reported (accepted only) and the online/paper split', () => {
    expect(snapshot.reporting).toEqual({ precincts: index.config.paperPrecincts.length, reported: 3 });
    // The faults' losing records still count in issued turnout (per channel, distinct voters).
    expect(snapshot.turnout.total).toMatchObject({
      issuedPaper: 35 + 7 + 3 + 1,
      castPaper: 19 + 5 + 3,
      castOnline: ONLINE,
      issuedOnline: ONLINE + 2,
      precinctsReported: 3,
    });
    const chosen = new Map(validSelections(index, 'D-10-1').map((s) => [s.race, s.choices[0]]));
    for (const race of index.racesOf('D-10-1')) {
      const r = snapshot.races.find((x) => x.id === race.id)!;
      const d = r.regions.flatMap((g) => g.districts).find((x) => x.id === 'D-10-1')!;
      d.total.candidates.forEach((c, i) => {
        expect(c.online, `${race.id} ${c.id}`).toBe(c.id === chosen.get(race.id) ? ONLINE : 0);
        expect(c.paper, `${race.id} ${c.id}`).toBe([10, 8][i] ?? 0);
        expect(c.total).toBe(c.online + c.paper);
      });
    }
    // The rejected precinct's votes are nowhere.
    for (const race of index.racesOf('D-10-2')) {
      const r = snapshot.races.find((x) => x.id === race.id)!;
      const d = r.regions.flatMap((g) => g.districts).find((x) => x.id === 'D-10-2')!;
      expect(d.total.candidates.reduce((n, c) => n + c.paper, 0)).toBe(0);
    }
  });

  it('reconcile names a protocol ClickHouse lost, and nothing is published on it', async () => {
    const ch = new ClickHouse(config);
    try {
      await ch.command(
        `ALTER TABLE paper_protocol_versions DELETE WHERE election = '${index.id}' AND precinct = '${DISSENTED}'`,
      );
    } finally {
      await ch.close();
    }
    // The mutation runs in the background.
    await expect
      .poll(async () => (await source.reconcile(index.id)).problems, { timeout: 60_000, interval: 1_000 })
      .toEqual([
        expect.stringMatching(
          new RegExp(`^${index.id} paper: protocol ${DISSENTED} v1 .* acknowledged, not stored$`),
        ),
      ]);
    await expect(scheduler.runOnce()).rejects.toMatchObject({ code: 'reconcile_failed' });
  });
});
