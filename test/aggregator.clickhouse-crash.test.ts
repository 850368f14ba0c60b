/**
 * Proves a ClickHouse crash loses and double-counts nothing: ClickHouse is
 * killed (SIGKILL) in the middle of a 50,000-ballot stream and started again;
 * once its consumer groups have caught up, `ballots_raw` and `tally` hold
 * exactly the 50,000 ballots. Records it had written but not yet committed
 * are delivered again after the restart, and the uniqExact states absorb them.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { storedBallots, tallyByDistrict } from '../aggregator/queries.js';
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
  log,
  migrated,
  partitionCount,
  producer,
  settled,
  testElection,
} from './aggregator.support.js';
import { stack } from './support/stack.js';

const TOTAL = 50_000;
const CHUNK = 1_000;
const election = syntheticElection(testElection('crash'));
const ballots = Array.from({ length: TOTAL }, (_, i) => syntheticBallot(election, i));
const expected = expectedTally(ballots);
const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let kafka: Producer;
let countedBeforeKill = -1;

beforeAll(async () => {
  await migrated();
  kafka = await producer();
  const partitions = await partitionCount();
  let sent = 0;
  // About 4,000 ballots/s for 12 s; ClickHouse dies after 20,000 and is back about 3 s later.
  const producing = (async () => {
    for (let start = 0; start < TOTAL; start += CHUNK) {
      await produceBallots(kafka, ballots.slice(start, start + CHUNK), partitions);
      sent = start + CHUNK;
      await sleep(250);
    }
  })();
  while (sent < 20_000) await sleep(50);
  const ch = new ClickHouse(config);
  countedBeforeKill = sum((await storedBallots(ch, election.id)).values());
  await ch.close();
  try {
    log.warn({ sent, countedBeforeKill }, 'killing ClickHouse mid-stream');
    await stack.stop('clickhouse', 'SIGKILL');
    await sleep(2_000);
  } finally {
    await stack.start('clickhouse');
  }
  await producing;
  await settled(undefined, 150_000);
}, 240_000);

afterAll(async () => {
  await kafka?.disconnect();
  if (stack.pid(stack.service('clickhouse')) === null) await stack.start('clickhouse');
});

describe('ClickHouse killed mid-stream', () => {
  it('was killed while the stream was being counted', () => {
    expect(countedBeforeKill).toBeGreaterThan(0);
    expect(countedBeforeKill).toBeLessThan(TOTAL);
  });

  it('counts every ballot exactly once after it restarts and catches up', async () => {
    const ch = new ClickHouse(config);
    try {
      const stored = await eventually(
        async () => sum((await storedBallots(ch, election.id)).values()),
        TOTAL,
      );
      expect(stored).toBe(TOTAL);
      const votes = await eventually(
        async () => sum((await tallyByDistrict(ch, election.id)).map((r) => r.votes)),
        sum(expected.values()),
      );
      expect(votes).toBe(sum(expected.values()));
      const tally = await tallyByDistrict(ch, election.id);
      expect(
        new Map(tally.map((r) => [`${r.race}|${r.region}|${r.district}|${r.candidate}`, r.votes])),
      ).toEqual(expected);
      const [raw] = await ch.rows<{ rows: string }>(
        `SELECT count() AS rows FROM ballots_raw WHERE election = ${idLiteral(election.id)}`,
      );
      log.warn({ deliveries: Number(raw?.rows), distinct: stored }, 'ballots_raw after the crash');
    } finally {
      await ch.close();
    }
  });
});
