/**
 * Proves "first record wins" (DESIGN §4, §5) downstream of Kafka: when a
 * second, different ballot slips into the log under a ballotId that already
 * has one (a conflict), and a retry repeats a ballot (a duplicate),
 *
 * - before reconcile has named the conflict's winner, nothing of that
 *   ballotId is counted (never both ballots);
 * - reconcile names the first record the winner, reports one conflict by
 *   count and passes (it does not fail on a conflict);
 * - then the tally (district, region, race), the race ballots and marks,
 *   the stored ballots, turnout and the receipt codes follow the first
 *   record only, and the CLI prints the conflict count and exits 0;
 * - a ballotId found in two partitions (which ingest never writes) is
 *   decided by the lower partition, the same in a resumed and a fresh run;
 * - the publisher publishes a snapshot that counts the first record only.
 *
 * On the code before the rule (79f41cb) the tally counts both ballots'
 * candidates and reconcile fails for good (`acknowledged … ≠ tallied …`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import {
  codes,
  raceBallots,
  storedBallots,
  tallyByDistrict,
  tallyByRace,
  tallyByRegion,
  turnout,
} from '../aggregator/queries.js';
import { reconcile } from '../aggregator/reconcile.js';
import {
  expectedTally,
  produceBallots,
  type SyntheticBallot,
  syntheticBallot,
  syntheticElection,
} from '../aggregator/synthetic.js';
import { repoRoot } from '../common/paths.js';
import type { SelectionRow } from '../common/records.js';
import { keysDir } from '../election/keys.js';
import { recordLogStart } from '../election/log-start.js';
import {
  config,
  log,
  migrated,
  partitionCount,
  producer,
  settled,
  testElection,
} from './aggregator.support.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  produceResults,
  realPublisher,
} from './publisher.real-data.js';

const election = syntheticElection(testElection('first-wins'), 4);
const known = new Map([[election.id, election.regions]]);
const ballots = Array.from({ length: 40 }, (_, i) => syntheticBallot(election, i));

/** The same ballotId with other choices (and so another ballotHash): a second ballot under one credential. */
function secondBallot(first: SyntheticBallot, president: string): SyntheticBallot {
  const selections: SelectionRow[] = first.record.selections.map((row) =>
    row[0] === 'president' ? ['president', president] : [...row],
  );
  const ballotHash = createHash('sha256')
    .update(`second/${JSON.stringify(selections)}`)
    .digest('hex');
  return { record: { ...first.record, selections, ballotHash }, regionIndex: first.regionIndex };
}

/** Another president than the one `ballot` chose. */
function otherPresident(ballot: SyntheticBallot): string {
  const chosen = ballot.record.selections.find((row) => row[0] === 'president')?.[1];
  return chosen === 'p1' ? 'p2' : 'p1';
}

const conflicting = secondBallot(ballots[1]!, otherPresident(ballots[1]!));

let kafka: Producer;
let ch: ClickHouse;
let partitions: number;

/** What the tally must be when `counted` are the ballots that count: per district, region and race. */
function tallies(counted: readonly SyntheticBallot[]) {
  const district = [...expectedTally(counted)]
    .map(([key, votes]) => {
      const [race, region, d, candidate] = key.split('|') as [string, string, string, string];
      return { race, region, district: d, candidate, votes };
    })
    .sort((a, b) =>
      `${a.race}|${a.region}|${a.district}|${a.candidate}` <
      `${b.race}|${b.region}|${b.district}|${b.candidate}`
        ? -1
        : 1,
    );
  const sum = (key: (r: (typeof district)[number]) => string) => {
    const out = new Map<string, number>();
    for (const r of district) out.set(key(r), (out.get(key(r)) ?? 0) + r.votes);
    return [...out].sort(([a], [b]) => (a < b ? -1 : 1));
  };
  return {
    district,
    region: sum((r) => `${r.race}|${r.region}|${r.candidate}`),
    race: sum((r) => `${r.race}|${r.candidate}`),
  };
}

async function actualTallies() {
  return {
    district: await tallyByDistrict(ch, election.id),
    region: (await tallyByRegion(ch, election.id)).map((r) => [
      `${r.race}|${r.region}|${r.candidate}`,
      r.votes,
    ]),
    race: (await tallyByRace(ch, election.id)).map((r) => [`${r.race}|${r.candidate}`, r.votes]),
  };
}

function cli(id: string): { status: number | null; out: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'aggregator/cli.ts', 'reconcile', '--election', id],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
      timeout: 90_000,
    },
  );
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

beforeAll(async () => {
  await migrated();
  kafka = await producer();
  ch = new ClickHouse(config);
  partitions = await partitionCount();
  // Where this election's records begin, as `election init` records it: reconcile reads from here.
  await mkdir(keysDir(config.stackDir, election.id), { recursive: true });
  await recordLogStart(config, election.id);
  // The ballots, then a retry of ballot 0 and a second ballot under ballot 1's id, in its partition.
  await produceBallots(kafka, ballots, partitions);
  await produceBallots(kafka, [ballots[0]!, conflicting], partitions);
  await settled();
});

afterAll(async () => {
  await kafka?.disconnect();
  await ch?.close();
  await closeRealPublishers();
});

describe('first record wins', () => {
  it('counts nothing of a conflicting ballotId before reconcile has named its winner', async () => {
    const undecided = ballots.filter((b) => b !== ballots[1]);
    expect(await actualTallies()).toEqual(
      (({ district, region, race }) => ({ district, region, race }))(tallies(undecided)),
    );
    expect(await codes(ch, election.id)).toEqual(undecided.map((b) => b.record.ballotId).sort());
  });

  it('reconcile names the first record the winner, reports one conflict by count and passes', async () => {
    const report = await reconcile(config, log, { election: election.id, knownRegions: known });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.conflicts).toBe(1);
    expect(report.regions.map((r) => [r.region, r.kafka, r.stored])).toEqual(
      election.regions.map((r) => [r, 10, 10]),
    );
  });

  it('then tally, race ballots, stored ballots, turnout and codes follow the first record only', async () => {
    expect(await actualTallies()).toEqual(tallies(ballots));
    expect(await codes(ch, election.id)).toEqual(ballots.map((b) => b.record.ballotId).sort());
    expect([...(await storedBallots(ch, election.id))]).toEqual(election.regions.map((r) => [r, 10]));
    const cast = new Map<string, number>();
    for (const { record } of ballots) cast.set(record.district, (cast.get(record.district) ?? 0) + 1);
    expect((await turnout(ch, election.id)).map((r) => [r.district, r.castOnline])).toEqual(
      [...cast].sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const perRace = new Map<string, { ballots: number; marks: number }>();
    for (const { record } of ballots) {
      for (const [race, ...candidates] of record.selections) {
        const key = `${record.region}|${race}`;
        const row = perRace.get(key) ?? { ballots: 0, marks: 0 };
        perRace.set(key, { ballots: row.ballots + 1, marks: row.marks + candidates.length });
      }
    }
    expect(
      (await raceBallots(ch, election.id)).map((r) => [`${r.region}|${r.race}`, r.ballots, r.marks]),
    ).toEqual([...perRace].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.ballots, v.marks]));
  });

  it('the CLI prints the conflict count and exits 0', () => {
    const { status, out } = cli(election.id);
    expect(out).toContain('1 conflict');
    expect(out).toContain('reconcile: ok');
    expect(status).toBe(0);
  });

  it('a ballotId in two partitions is decided by the lower partition, resumed or fresh', async () => {
    // Ballot 2 (region R02) sits in partition 2; a different ballot under its id
    // lands later in partition 0. Ingest never does this (a ballotId has one
    // partition), but the rule must still give one answer from the log alone.
    const home = ballots[2]!;
    expect(home.regionIndex % partitions).toBe(2);
    const elsewhere = secondBallot(home, otherPresident(home));
    await produceBallots(kafka, [{ ...elsewhere, regionIndex: 0 }], partitions);
    await settled();
    const resumed = await reconcile(config, log, { election: election.id, knownRegions: known });
    const fresh = await reconcile(config, log, {
      election: election.id,
      knownRegions: known,
      checkpointDir: null,
    });
    expect([resumed.resumed, fresh.resumed]).toEqual([true, false]);
    for (const report of [resumed, fresh]) {
      expect(report.problems).toEqual([]);
      expect(report.conflicts).toBe(2);
    }
    expect(fresh.regions).toEqual(resumed.regions);
    const counted = ballots.map((b) => (b === home ? elsewhere : b));
    expect(await actualTallies()).toEqual(tallies(counted));
  });

  it('the publisher publishes a snapshot that counts the first record only', async () => {
    const t = await realPublisher('pub-first-wins');
    const produced = await produceResults(t.index, 24, { conflict: true });
    await awaitInClickHouse(t.index, produced.codes.length - 1);
    const snapshot = await t.scheduler.runOnce();
    expect(snapshot.codes.count).toBe(24);
    expect(snapshot.turnout.total.castOnline).toBe(24);
    for (const race of snapshot.races) {
      const want = produced.online.get(race.id);
      for (const c of race.total.candidates)
        expect(c.online, `${race.id} ${c.id}`).toBe(want?.get(c.id) ?? 0);
    }
  });
});
