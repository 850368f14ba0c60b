/**
 * Proves duplicate deliveries cannot inflate counts: 10,000 ballots produced
 * straight to Kafka (acks=all, partition = region index), 1,000 of them a
 * second time with the same ballotId, and ClickHouse's `ballots_raw`,
 * `tally` and `turnout` count exactly the 10,000, candidate by candidate.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { codes, storedBallots, tallyByDistrict, tallyByRace, turnout } from '../aggregator/queries.js';
import { idLiteral } from '../aggregator/sql.js';
import {
  expectedTally,
  produceBallots,
  syntheticBallot,
  syntheticElection,
} from '../aggregator/synthetic.js';
import {
  config,
  eventually,
  migrated,
  partitionCount,
  producer,
  settled,
  testElection,
} from './aggregator.support.js';

const election = syntheticElection(testElection('once'));
const ballots = Array.from({ length: 10_000 }, (_, i) => syntheticBallot(election, i));
// Redeliveries arrive later and out of order, as a retry after a produce timeout would.
const duplicates = ballots.slice(0, 1_000).reverse();
const expected = expectedTally(ballots);

let ch: ClickHouse;
let kafka: Producer;

beforeAll(async () => {
  await migrated();
  ch = new ClickHouse(config);
  kafka = await producer();
  const partitions = await partitionCount();
  await produceBallots(kafka, ballots, partitions);
  await produceBallots(kafka, duplicates, partitions);
  await settled();
});

afterAll(async () => {
  await kafka?.disconnect();
  await ch?.close();
});

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

describe('ballots delivered twice', () => {
  it('are stored once: ballots_raw holds 10,000 distinct ballot ids', async () => {
    const stored = await eventually(async () => sum((await storedBallots(ch, election.id)).values()), 10_000);
    expect(stored).toBe(10_000);
    expect(await codes(ch, election.id)).toHaveLength(10_000);
    const [raw] = await ch.rows<{ rows: string }>(
      `SELECT count() AS rows FROM ballots_raw WHERE election = ${idLiteral(election.id)}`,
    );
    // The audit trail keeps every delivery; only distinct ids count.
    expect(Number(raw?.rows)).toBeGreaterThanOrEqual(11_000);
  });

  it('are tallied once: every candidate in every district matches the expected count', async () => {
    const rows = await eventually(
      async () => (await tallyByDistrict(ch, election.id)).map((r) => r.votes).reduce((a, b) => a + b, 0),
      sum(expected.values()),
    );
    expect(rows).toBe(sum(expected.values()));
    const tally = await tallyByDistrict(ch, election.id);
    const got = new Map(tally.map((r) => [`${r.race}|${r.region}|${r.district}|${r.candidate}`, r.votes]));
    expect(got).toEqual(expected);
    const president = (await tallyByRace(ch, election.id)).filter((r) => r.race === 'president');
    expect(sum(president.map((r) => r.votes))).toBe(10_000);
  });

  it('are turned out once: ballots cast per district add up to 10,000', async () => {
    const cast = await eventually(
      async () => sum((await turnout(ch, election.id)).map((r) => r.castOnline)),
      10_000,
    );
    expect(cast).toBe(10_000);
  });
});
