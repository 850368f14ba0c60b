/**
 * The declared result on the real stack (issue 16 §8): real ballots and a
 * paper protocol through Kafka and ClickHouse, then the commission's signed
 * events in `election-events` — a removal of the candidate with the most
 * votes in the national race, close, declare — read back by the real
 * ElectionEventsFollower. The scheduler takes the final snapshot: winners
 * per race (the removed candidate is not one; with the removal, candidates
 * with no votes tie for the last seat and are flagged, not resolved), a
 * signed protocol per district that verifies with the snapshot key, and a
 * chain `verify` accepts. A correction (a recounted paper protocol, v2, and
 * the removal overturned) and a second declaration give round 2, chained,
 * saying what changed — taken at once by the scheduler running on its
 * (minute-long) timer, as the publisher runs it. Winners are also checked on hand-made races.
 */
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { paperProtocols } from '../aggregator/queries.js';
import { canonicalBytes, canonicalJson } from '../common/canonical.js';
import {
  ELECTION_EVENTS_PARTITION,
  type ElectionEventRecord,
  paperProtocol,
  TOPICS,
  type UnsignedElectionEvent,
} from '../common/records.js';
import { ElectionEventsFollower, newEventId, signEvent } from '../election/election-events.js';
import { type OperatorKeys, stationKeyId } from '../election/index.js';
import { signProtocol as signStationProtocol } from '../ingest/paper/protocol.js';
import { FinalFiles } from '../publisher/final-files.js';
import type { DistrictProtocol } from '../publisher/protocol.js';
import { runOnDeclaration, SnapshotScheduler } from '../publisher/scheduler.js';
import type { RaceResult, Snapshot, SnapshotIndex } from '../publisher/snapshot.js';
import { snapshotShapeProblem } from '../publisher/snapshot-schema.js';
import { publishedFiles, verifyPublished } from '../publisher/verify.js';
import { raceWinners } from '../publisher/winners.js';
import { fixtureStationKey } from './publisher.fixtures.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  type Produced,
  produceResults,
  realPublisher,
} from './publisher.real-data.js';
import { config, kafkaClient } from './support/stack.js';

const NATIONAL = 'R-NAT';
const operator = generateKeyPairSync('ed25519');
let t: Awaited<ReturnType<typeof realPublisher>>;
let produced: Produced;
let follower: ElectionEventsFollower;
let scheduler: SnapshotScheduler;
let files: FinalFiles;
let removed: string;
let round1: Snapshot;

/** Signs with OP-1's key and produces to election-events/0, as the admin service does (acks=all). */
async function commission(
  events: Omit<UnsignedElectionEvent, 'v' | 'id' | 'election' | 'at' | 'by'>[],
): Promise<ElectionEventRecord[]> {
  const signed = events.map((e, i) =>
    signEvent(
      { v: 1, id: newEventId(), election: t.index.id, at: Date.now() + i, by: 'OP-1', ...e },
      operator.privateKey,
    ),
  );
  const producer = kafkaClient('saylau-final-test').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: TOPICS.electionEvents,
      acks: -1,
      messages: signed.map((e) => ({
        key: e.id,
        value: JSON.stringify(e),
        partition: ELECTION_EVENTS_PARTITION,
      })),
    });
  } finally {
    await producer.disconnect();
  }
  return signed;
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readJson = async <V>(relative: string): Promise<V> =>
  JSON.parse(await readFile(join(t.dir, relative), 'utf8')) as V;

beforeAll(async () => {
  t = await realPublisher('final');
  produced = await produceResults(t.index, 42);
  const national = [...(produced.online.get(NATIONAL) ?? new Map<string, number>())].sort(
    (a, b) => b[1] - a[1],
  );
  removed = national[0]![0];
  await awaitInClickHouse(t.index, produced.codes.length);
  const keys: OperatorKeys = new Map([
    [
      'OP-1',
      {
        name: 'Commission chair',
        publicKey: operator.publicKey,
        spki: operator.publicKey.export({ type: 'spki', format: 'der' }).toString('base64url'),
        keyId: stationKeyId(operator.publicKey),
      },
    ],
  ]);
  follower = new ElectionEventsFollower({
    brokers: config.kafka.brokers,
    stackDir: config.stackDir,
    election: t.index,
    keys,
    log: t.logger,
  });
  await follower.start();
  files = new FinalFiles(t.store, t.privateKey);
  await files.open();
  scheduler = new SnapshotScheduler({
    ...t,
    intervalMs: 60_000,
    settleTimeoutMs: 90_000,
    final: { events: () => follower.state(), files },
  });
  // An ordinary snapshot first: the final continues the chain.
  await scheduler.runOnce();
}, 120_000);

afterAll(async () => {
  await follower?.close();
  await closeRealPublishers();
});

describe('declaring the result', () => {
  it('takes candidate statuses from signed events only, never from an event written straight to Kafka', async () => {
    // A removal no operator signed (signed with another key): ClickHouse stores it like any
    // event, the follower skips it, and the snapshot keeps the candidate standing.
    const race = t.index.race(NATIONAL)!;
    const target = race.candidates.find((c) => c.id !== removed && c.status === 'active')!.id;
    const forged = signEvent(
      {
        v: 1,
        id: newEventId(),
        election: t.index.id,
        at: Date.now(),
        by: 'OP-1',
        type: 'candidate-removed',
        race: NATIONAL,
        candidate: target,
        reference: 'FORGED',
        detail: 'written straight to Kafka',
      },
      generateKeyPairSync('ed25519').privateKey,
    );
    const skippedBefore = follower.skipped;
    const producer = kafkaClient('saylau-final-forged').producer();
    await producer.connect();
    try {
      await producer.send({
        topic: TOPICS.electionEvents,
        acks: -1,
        messages: [{ key: forged.id, value: JSON.stringify(forged), partition: ELECTION_EVENTS_PARTITION }],
      });
    } finally {
      await producer.disconnect();
    }
    await until('the follower skipped it', () => follower.skipped > skippedBefore);
    await expect
      .poll(async () => (await t.source.electionEvents(t.index.id)).map((e) => e.id), { timeout: 30_000 })
      .toContain(forged.id);
    const snapshot = await scheduler.runOnce();
    const status = snapshot.races.find((r) => r.id === NATIONAL)!.candidates.find((c) => c.id === target)!;
    expect(status.status).toBe('active');
  });

  it('takes a final snapshot with winners per race when the declaration arrives', async () => {
    // The commission extends voting: the next snapshot states the new closing time (v5).
    await commission([{ type: 'extended', until: '2100-01-01T06:00:00Z', detail: 'queues at the stations' }]);
    await until(
      'the extension followed',
      () => follower.state().closesAt === Date.parse('2100-01-01T06:00:00Z'),
    );
    const extended = await scheduler.runOnce();
    expect(extended).not.toHaveProperty('final');
    expect(extended.election.closes).toBe('2100-01-01T06:00:00Z');
    const [removal, closed, declaration] = await commission([
      {
        type: 'candidate-removed',
        race: NATIONAL,
        candidate: removed,
        reference: 'CEC-2020/17',
        detail: 'deregistered for vote buying',
      },
      { type: 'closed', detail: 'polls closed' },
      { type: 'declared', detail: 'result of the count', reference: 'PROTOCOL-1' },
    ]);
    await until('the declaration followed', () => follower.state().declarations.length === 1);
    expect(follower.state().events.map((e) => e.id)).toContain(removal!.id);

    round1 = await scheduler.runOnce();
    expect(round1.v).toBe(5);
    expect(round1.seq).toBe(4);
    // Closed early: the closing time it states is when the `closed` event took effect.
    expect(round1.election.closes).toBe(
      new Date(Math.floor(closed!.at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    );
    expect(round1.final).toMatchObject({
      declaration: declaration!.id,
      by: 'OP-1',
      reason: 'result of the count',
      reference: 'PROTOCOL-1',
      round: 1,
      changes: null,
    });
    expect(round1.final!.winners.map((w) => w.race)).toEqual(t.index.config.races.map((r) => r.id));
    const race = round1.races.find((r) => r.id === NATIONAL)!;
    const nat = round1.final!.winners.find((w) => w.race === NATIONAL)!;
    const votes = (id: string) => race.total.candidates.find((c) => c.id === id)!.total;
    // The removed candidate had the most votes, is shown, is excluded, and does not win.
    expect(race.candidates.find((c) => c.id === removed)!.status).toBe('removed');
    expect(votes(removed)).toBeGreaterThan(0);
    for (const w of nat.winners) expect(votes(removed)).toBeGreaterThanOrEqual(votes(w));
    expect(nat.winners).not.toContain(removed);
    expect(race.total.excluded).toBe(votes(removed));
    // Few candidates got votes: those with none tie for the remaining seats, flagged, not resolved.
    expect(nat.winners.length).toBeLessThan(race.seats);
    expect(nat.tie).not.toBeNull();
    expect(nat.tie!.at).toBe(0);
    expect(nat.tie!.candidates).not.toContain(removed);
    for (const id of nat.tie!.candidates) expect(votes(id)).toBe(0);
  });

  it('publishes a protocol per district, signed with the snapshot key, and a printable page', async () => {
    const key = createPublicKey({ key: Buffer.from(t.spki, 'base64url'), format: 'der', type: 'spki' });
    const index = await readJson<{ rounds: { round: number; seq: number; districts: string[] }[] }>(
      'final/index.json',
    );
    expect(index.rounds).toMatchObject([{ round: 1, seq: round1.seq }]);
    expect(index.rounds[0]!.districts).toEqual(t.index.config.districts.map((d) => d.id));
    // The district with the paper precinct: its protocol has paper votes too.
    const district = t.index.config.paperPrecincts.find((p) => p.id === produced.paperPrecinct)!.district;
    const text = await readFile(join(t.dir, `final/1/${district}.json`), 'utf8');
    const protocol = JSON.parse(text) as DistrictProtocol;
    // Canonical JSON; the signature covers the canonical form without it, by the snapshot key.
    expect(text).toBe(canonicalJson(protocol));
    expect(verify(null, canonicalBytes(protocol), key, Buffer.from(protocol.signature, 'base64url'))).toBe(
      true,
    );
    expect(protocol.snapshot).toEqual({
      seq: round1.seq,
      hash: createHash('sha256').update(canonicalBytes(round1)).digest('hex'),
      takenAt: round1.takenAt,
    });
    expect(protocol.district.id).toBe(district);
    const race = protocol.races.find((r) => r.id === NATIONAL)!;
    const inSnapshot = round1.races
      .find((r) => r.id === NATIONAL)!
      .regions.flatMap((r) => r.districts)
      .find((d) => d.id === district)!;
    expect(race.candidates.map((c) => c.total)).toEqual(inSnapshot.total.candidates.map((c) => c.total));
    expect(race.candidates.some((c) => c.paper > 0)).toBe(true);
    expect(race.valid).toBe(inSnapshot.total.valid);
    expect(race.candidates.find((c) => c.id === removed)!.status).toBe('removed');
    expect(race.winners).toEqual(round1.final!.winners.find((w) => w.race === NATIONAL)!.winners);
    expect(protocol.precincts.find((p) => p.id === produced.paperPrecinct)).toMatchObject({
      status: 'accepted',
    });
    const html = await readFile(join(t.dir, `final/1/${district}.html`), 'utf8');
    expect(html).toContain(protocol.signature);
    expect(html).toContain(`${race.valid}`);
    expect(html).toContain(`elections/${t.index.id}.json`);

    // A changed number no longer verifies.
    const forged = {
      ...protocol,
      races: protocol.races.map((r, i) => (i === 0 ? { ...r, valid: r.valid + 1 } : r)),
    };
    expect(verify(null, canonicalBytes(forged), key, Buffer.from(protocol.signature, 'base64url'))).toBe(
      false,
    );
  });

  it('verifies: the chain, the final against its counts, every protocol', async () => {
    await expect(verifyPublished(publishedFiles(t.dir), { spki: t.spki })).resolves.toMatchObject({
      snapshots: round1.seq,
    });
    // A protocol edited after publication fails verification, named.
    const path = join(t.dir, `final/1/${t.index.config.districts[0]!.id}.html`);
    const original = await readFile(path, 'utf8');
    await writeFile(path, original.replace('<h1>', '<h1>X'));
    await expect(verifyPublished(publishedFiles(t.dir), { spki: t.spki })).rejects.toMatchObject({
      code: 'protocol_mismatch',
    });
    await writeFile(path, original);
  });

  it('re-declared after a correction, gives round 2, chained, saying what changed', async () => {
    const precinct = t.index.config.paperPrecincts.find((p) => p.id === produced.paperPrecinct)!;
    const district = t.index.district(precinct.district)!;
    // As the running publisher does (main.ts): the scheduler on its timer (a minute), and a
    // declaration applied by the follower runs it at once.
    scheduler.start();
    await until('the first timed snapshot', () => t.store.head.seq === round1.seq + 1, 60_000);
    runOnDeclaration(follower, scheduler);
    await produceRecount(precinct.id, district.id, district.region);
    const [, declaration] = await commission([
      {
        type: 'candidate-reinstated',
        race: NATIONAL,
        candidate: removed,
        detail: 'the court overturned the deregistration',
      },
      { type: 'declared', detail: 'result after the recount', reference: 'PROTOCOL-2' },
    ]);
    await until('the final of the second declaration', () => files.rounds.length === 2, 30_000);
    await scheduler.stop();
    const between = await readJson<Snapshot>(`snapshots/${round1.seq + 1}.json`);
    expect(between).not.toHaveProperty('final');
    const round2 = await readJson<Snapshot>(`snapshots/${round1.seq + 2}.json`);
    expect(files.rounds[1]!.seq).toBe(round2.seq);
    expect(round2.prevHash).toBe(createHash('sha256').update(canonicalBytes(between)).digest('hex'));
    expect(round2.final).toMatchObject({ declaration: declaration!.id, round: 2, reference: 'PROTOCOL-2' });
    const changes = round2.final!.changes!;
    expect(changes).toContainEqual({
      race: NATIONAL,
      district: null,
      candidate: removed,
      what: 'status',
      from: 'removed',
      to: 'active',
    });
    expect(changes).toContainEqual(
      expect.objectContaining({
        race: NATIONAL,
        candidate: removed,
        what: 'winner',
        from: 'not-winner',
        to: 'winner',
      }),
    );
    // The recount moved paper votes from the first candidate to the second, in the district and race-wide.
    const first = t.index.race(NATIONAL)!.candidates[0]!.id;
    expect(changes).toContainEqual(
      expect.objectContaining({ race: NATIONAL, district: district.id, candidate: first, what: 'votes' }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ race: NATIONAL, district: null, candidate: first, what: 'votes' }),
    );
    // Each declaration gets one final: the next run is an ordinary snapshot.
    expect(await scheduler.runOnce()).not.toHaveProperty('final');
    const index = await readJson<{ rounds: { round: number; seq: number }[] }>('final/index.json');
    expect(index.rounds.map((r) => [r.round, r.seq])).toEqual([
      [1, round1.seq],
      [2, round2.seq],
    ]);
    // The list of snapshots marks the finals with their round.
    const listed = await readJson<SnapshotIndex>('snapshots/index.json');
    expect(listed.snapshots.filter((e) => e.final !== null).map((e) => [e.final, e.seq])).toEqual([
      [2, round2.seq],
      [1, round1.seq],
    ]);
    const protocol = await readJson<DistrictProtocol>(`final/2/${district.id}.json`);
    expect(protocol).toMatchObject({ round: 2, snapshot: { seq: round2.seq } });
    await expect(verifyPublished(publishedFiles(t.dir), { spki: t.spki })).resolves.toMatchObject({
      snapshots: round2.seq + 1,
    });
  });

  it('reads v2, v3 and v4 snapshots still; a final only from v4, v5 fields only from v5', () => {
    const { closes: _c, snapshotIntervalSec: _i, about: _a, ...election } = round1.election;
    const { districts: _d, ...turnout } = round1.turnout;
    const v4 = { ...round1, v: 4 as const, election, turnout };
    expect(snapshotShapeProblem(v4)).toBeNull();
    expect(snapshotShapeProblem({ ...v4, turnout: round1.turnout })).toBe(
      '/turnout/districts is not part of v4',
    );
    expect(snapshotShapeProblem({ ...round1, election })).toBe('/election/closes is required from v5 on');
    const { final: _final, ...v3 } = { ...v4, v: 3 as const };
    expect(snapshotShapeProblem(v3)).toBeNull();
    expect(snapshotShapeProblem({ ...v4, v: 3 })).toBe('/final is not part of v3');
    const { precincts: _p, ...v2 } = { ...v3, v: 2 as const };
    expect(snapshotShapeProblem(v2)).toBeNull();
  });
});

/** The station's recount: protocol v2 moves the paper votes from each race's first candidate to its second. */
async function produceRecount(precinct: string, district: string, region: string): Promise<void> {
  const { keyId: _keyId, ...unsigned } = paperProtocol({
    election: t.index.id,
    region,
    district,
    precinct,
    version: 2,
    reason: 'recount ordered by the district commission',
    issued: 7,
    spoiled: 1,
    results: t.index
      .racesOf(district)
      .flatMap((race) =>
        race.candidates.map((c, i) => ({ race: race.id, candidate: c.id, votes: i === 1 ? 6 : 0 })),
      ),
    keyId: '',
  });
  const protocol = {
    ...signStationProtocol(unsigned, fixtureStationKey(t.index, precinct)),
    submittedBy: t.index.config.paperPrecincts.find((p) => p.id === precinct)!.officials[0]!.id,
    at: Date.now(),
  };
  const producer = kafkaClient('saylau-final-test').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: TOPICS.paper,
      acks: -1,
      messages: [{ value: JSON.stringify(protocol), partition: t.index.partitionsFor(region)[0] ?? 0 }],
    });
  } finally {
    await producer.disconnect();
  }
  const ch = new ClickHouse(config);
  try {
    const deadline = Date.now() + 60_000;
    while ((await paperProtocols(ch, t.index.id)).filter((p) => p.precinct === precinct).length < 2) {
      if (Date.now() > deadline) throw new Error('the recount did not reach ClickHouse');
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await ch.close();
  }
}

describe('winners of a race', () => {
  const race = (seats: number, votes: [string, number, RaceResult['candidates'][number]['status']?][]) =>
    ({
      id: 'R',
      seats,
      candidates: votes.map(([id, , status]) => ({ id, status: status ?? 'active' })),
      total: { candidates: votes.map(([id, total]) => ({ id, online: total, paper: 0, total })) },
    }) as unknown as RaceResult;

  it('are the top seats by total, most votes first', () => {
    expect(
      raceWinners(
        race(2, [
          ['a', 5],
          ['b', 9],
          ['c', 7],
        ]),
      ),
    ).toEqual({
      race: 'R',
      seats: 2,
      winners: ['b', 'c'],
      tie: null,
    });
  });

  it('never include a removed candidate, however many votes', () => {
    expect(
      raceWinners(
        race(1, [
          ['a', 5],
          ['b', 90, 'removed'],
          ['c', 7],
        ]),
      ).winners,
    ).toEqual(['c']);
  });

  it('flag a tie across the seat boundary and list only the sure winners', () => {
    expect(
      raceWinners(
        race(2, [
          ['a', 9],
          ['b', 4],
          ['c', 4],
          ['d', 1],
        ]),
      ),
    ).toEqual({
      race: 'R',
      seats: 2,
      winners: ['a'],
      tie: { at: 4, candidates: ['b', 'c'] },
    });
    // A tie inside the seats is no tie for the commission.
    expect(
      raceWinners(
        race(2, [
          ['a', 4],
          ['b', 4],
          ['c', 1],
        ]),
      ).tie,
    ).toBeNull();
  });

  it('are every standing candidate when there are no more than seats', () => {
    expect(
      raceWinners(
        race(3, [
          ['a', 0],
          ['b', 2, 'removed'],
          ['c', 1],
        ]),
      ).winners,
    ).toEqual(['c', 'a']);
  });
});
