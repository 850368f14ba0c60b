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
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { createLogger } from '../common/log.js';
import { type ElectionIndex, readKeys, readPublisherKeys } from '../election/index.js';
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
import { config } from './support/stack.js';

const PORT = testPort(18_743);
const ELECTION = `paper-results-${Date.now().toString(36)}`;
/** Corrected (v2), rejected (issued > check-ins), accepted with a dissent. */
const [CORRECTED, REJECTED, DISSENTED] = ['P-10-1', 'P-10-2', 'P-10-3'];
const CHECK_INS = { [CORRECTED]: 20, [REJECTED]: 10, [DISSENTED]: 5 };
const ONLINE = 4;

let index: ElectionIndex;
let ingest: Ingest;
let dir: string;
let source: ClickHouseSource;
let snapshot: Snapshot;
let scheduler: SnapshotScheduler;
let spki: string;
let byDistrict: Map<string, string[]>;

/** Members of each precinct's district checked in there, through the real check-in route. */
async function checkIns(): Promise<void> {
  const keys = await readKeys(config.stackDir, index.id);
  const officials = await officialsOf(index, keys);
  for (const [precinct, n] of Object.entries(CHECK_INS)) {
    const official = officials.find((o) => o.precinct === precinct)!;
    const members = byDistrict.get(official.district)!.slice(0, n);
    expect(members).toHaveLength(n);
    const answers = await Promise.all(
      members.map((m) => untilFinal(() => checkIn(ingest.base, index.id, official.token, m))),
    );
    expect(answers.map(outcomeOf)).toEqual(members.map(() => 'checked_in'));
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
  await checkIns();
  await castOnline('D-10-1');
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
    expect(snapshot.v).toBe(3);
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

  it('counts precincts reported (accepted only) and the online/paper split', () => {
    expect(snapshot.reporting).toEqual({ precincts: index.config.paperPrecincts.length, reported: 2 });
    expect(snapshot.turnout.total).toMatchObject({
      issuedPaper: 35,
      castPaper: 19 + 5,
      castOnline: ONLINE,
      issuedOnline: ONLINE,
      precinctsReported: 2,
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
