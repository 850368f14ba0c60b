/**
 * Proves the publisher's queries return what the topics say: turnout from
 * `issuance` (per channel, a re-delivered issuance counted once) and from
 * `ballots`; the latest paper protocol per precinct (a higher version
 * replaces a lower one, whatever the order); paper check-ins by "first
 * issuance wins" (a voter with a second blindedHash counts nowhere); election events with
 * redeliveries collapsed; ids that are not plain ids are refused before any
 * SQL runs; consumer lag is exported as a Prometheus gauge.
 */
import type { Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { isAggregatorError } from '../aggregator/errors.js';
import { AggregatorMetrics } from '../aggregator/metrics.js';
import {
  castByBucket,
  codes,
  electionEvents,
  issuedByMinute,
  paperCheckIns,
  paperDissents,
  paperProtocols,
  tallyByRace,
  tallyByRegion,
  turnout,
} from '../aggregator/queries.js';
import type { ElectionEventRecord, ElectionEventType } from '../aggregator/records.js';
import { STREAMS } from '../aggregator/streams.js';
import { produceBallots, syntheticBallot, syntheticElection } from '../aggregator/synthetic.js';
import {
  type IssuanceRecord,
  minuteBucket,
  type PaperDissentRecord,
  type PaperProtocolRecord,
  paperCheckInHash,
  paperProtocol,
  RECORD_VERSION,
  TOPICS,
} from '../common/records.js';
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

const election = syntheticElection(testElection('queries'), 2);
const bucket = minuteBucket(Date.now());
const ballots = Array.from({ length: 30 }, (_, i) => syntheticBallot(election, i));

function issuance(i: number, channel: 'online' | 'paper'): IssuanceRecord {
  return {
    v: RECORD_VERSION,
    election: election.id,
    region: 'R00',
    district: 'R00-D1',
    voterHash: `${channel}-${i}`.padEnd(64, '0'),
    blindedHash: channel === 'paper' ? paperCheckInHash('P-17') : `b-${i}`.padEnd(64, '0'),
    channel,
    bucket,
    ...(channel === 'paper' ? { precinct: 'P-17' } : {}),
  };
}

/** Another election: voters with a losing issuance record (as a fault leaves one) count at no precinct. */
const faulted = testElection('queries-faulted');

function faultedIssuance(voter: string, channel: 'online' | 'paper', precinct = ''): IssuanceRecord {
  return {
    v: RECORD_VERSION,
    election: faulted,
    region: 'R00',
    district: 'R00-D1',
    voterHash: voter.padEnd(64, '0'),
    blindedHash: channel === 'paper' ? paperCheckInHash(precinct) : `b-${voter}`.padEnd(64, '0'),
    channel,
    bucket,
    ...(channel === 'paper' ? { precinct } : {}),
  };
}

const protocol = (version: number, votes: number): PaperProtocolRecord => ({
  ...paperProtocol({
    election: election.id,
    region: 'R01',
    district: 'R01-D2',
    precinct: 'P-17',
    version,
    reason: version > 1 ? 'recount' : '',
    issued: 100 + version,
    spoiled: 2,
    unused: 7,
    results: [
      { race: 'president', candidate: 'p1', votes },
      { race: 'president', candidate: 'p2', votes: 10 },
    ],
    keyId: '0123456789abcdef',
  }),
  submittedBy: 'O-17-a',
  at: 1_000 + version,
  signature: `sig${version}`.padEnd(86, 'A'),
});

const dissent: PaperDissentRecord = {
  v: RECORD_VERSION,
  kind: 'dissent',
  id: 'd1',
  election: election.id,
  region: 'R01',
  district: 'R01-D2',
  precinct: 'P-17',
  version: 2,
  author: 'observer-1',
  text: 'ballot box seal was broken',
  at: 5_000,
};

const event = (id: string, type: ElectionEventType, at: number): ElectionEventRecord => ({
  v: RECORD_VERSION,
  id,
  election: election.id,
  type,
  at,
  by: 'OP-1',
  detail: 'queries test',
  race: 'president',
  candidate: 'p3',
  signature: '',
});

let kafka: Producer;
let ch: ClickHouse;

beforeAll(async () => {
  await migrated();
  kafka = await producer();
  ch = new ClickHouse(config);
  await produceBallots(kafka, ballots, await partitionCount());
  const send = (topic: string, records: readonly object[]) =>
    kafka.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({ value: JSON.stringify(r), partition: 0 })),
    });
  // 5 online + 3 paper credentials; one online issuance delivered twice.
  await send(TOPICS.issuance, [
    ...[0, 1, 2, 3, 4].map((i) => issuance(i, 'online')),
    ...[0, 1, 2].map((i) => issuance(i, 'paper')),
    issuance(0, 'online'),
  ]);
  await send(TOPICS.issuance, [
    ...[
      faultedIssuance('paper-then-online', 'paper', 'P-17'),
      faultedIssuance('paper-then-online', 'online'),
    ],
    ...[
      faultedIssuance('online-then-paper', 'online'),
      faultedIssuance('online-then-paper', 'paper', 'P-17'),
    ],
    ...[faultedIssuance('two-precincts', 'paper', 'P-17'), faultedIssuance('two-precincts', 'paper', 'P-18')],
    faultedIssuance('checked-in-twice', 'paper', 'P-17'),
    faultedIssuance('checked-in-twice', 'paper', 'P-17'),
    faultedIssuance('checked-in', 'paper', 'P-18'),
    faultedIssuance('online-only', 'online'),
  ]);
  // Version 2 arrives before version 1 and twice; a dissent twice; a record without a kind (neither).
  const kindless = { ...protocol(3, 99), kind: undefined };
  await send(TOPICS.paper, [protocol(2, 50), protocol(1, 40), protocol(2, 50), dissent, dissent, kindless]);
  await send(TOPICS.electionEvents, [
    event('e1', 'opened', 1_000),
    event('e2', 'candidate-withdrawn', 2_000),
    event('e2', 'candidate-withdrawn', 2_000),
  ]);
  await settled(STREAMS, 120_000);
});

afterAll(async () => {
  await kafka?.disconnect();
  await ch?.close();
});

describe('publisher queries', () => {
  it('turnout: credentials per channel from issuance, ballots cast from ballots, each counted once', async () => {
    const rows = await eventually(
      async () => (await turnout(ch, election.id)).find((r) => r.district === 'R00-D1'),
      {
        region: 'R00',
        district: 'R00-D1',
        issuedOnline: 5,
        issuedPaper: 3,
        castOnline: ballots.filter((b) => b.record.district === 'R00-D1').length,
      },
    );
    expect(rows).toEqual({
      region: 'R00',
      district: 'R00-D1',
      issuedOnline: 5,
      issuedPaper: 3,
      castOnline: ballots.filter((b) => b.record.district === 'R00-D1').length,
    });
    const minutes = await issuedByMinute(ch, election.id);
    expect(minutes).toEqual([{ bucket, issuedOnline: 5, issuedPaper: 3 }]);
    const cast = await castByBucket(ch, election.id);
    expect(cast.reduce((s, b) => s + b.castOnline, 0)).toBe(30);
  });

  it('tally by race and by region add up to the ballots; codes are the distinct ids, sorted', async () => {
    const president = (await tallyByRace(ch, election.id)).filter((r) => r.race === 'president');
    expect(president.reduce((s, r) => s + r.votes, 0)).toBe(30);
    const byRegion = (await tallyByRegion(ch, election.id)).filter((r) => r.race === 'president');
    expect(byRegion.reduce((s, r) => s + r.votes, 0)).toBe(30);
    const ids = ballots.map((b) => b.record.ballotId).sort();
    expect(await codes(ch, election.id)).toEqual(ids);
  });

  it('paper: every protocol version kept once, dissents once, check-ins per precinct', async () => {
    const versions = await paperProtocols(ch, election.id);
    expect(versions.map((p) => [p.precinct, p.version, p.reason, p.issued, p.spoiled, p.unused])).toEqual([
      ['P-17', 1, '', 101, 2, 7],
      ['P-17', 2, 'recount', 102, 2, 7],
    ]);
    expect(versions[1]!.results).toEqual([
      ['president', 'p1', '50'],
      ['president', 'p2', '10'],
    ]);
    expect(versions[1]).toMatchObject({ keyId: '0123456789abcdef', submittedBy: 'O-17-a', at: 1_002 });
    expect(await paperDissents(ch, election.id)).toEqual([
      {
        precinct: 'P-17',
        version: 2,
        id: 'd1',
        author: 'observer-1',
        text: 'ballot box seal was broken',
        at: 5_000,
      },
    ]);
    expect(await paperCheckIns(ch, election.id)).toEqual([
      { precinct: 'P-17', region: 'R00', district: 'R00-D1', checkIns: 3, conflicted: 0 },
    ]);
  });

  it('paper check-ins: a voter with a second blindedHash counts at no precinct, and is shown as conflicted', async () => {
    expect(await paperCheckIns(ch, faulted)).toEqual([
      { precinct: 'P-17', region: 'R00', district: 'R00-D1', checkIns: 1, conflicted: 3 },
      { precinct: 'P-18', region: 'R00', district: 'R00-D1', checkIns: 1, conflicted: 1 },
    ]);
  });

  it('election events: oldest first, a redelivered event once', async () => {
    const events = await electionEvents(ch, election.id);
    expect(events.map((e) => [e.id, e.type, e.at, e.candidate])).toEqual([
      ['e1', 'opened', 1_000, 'p3'],
      ['e2', 'candidate-withdrawn', 2_000, 'p3'],
    ]);
  });

  it('refuses an election id that is not a plain id, before any SQL runs', async () => {
    const error = await tallyByRace(ch, "x' OR 1=1 --").catch((e: unknown) => e);
    expect(isAggregatorError(error, 'invalid_identifier')).toBe(true);
  });

  it('exports consumer lag per stream and partition as Prometheus gauges', async () => {
    const registry = new Registry();
    const metrics = new AggregatorMetrics(registry, config, log);
    try {
      const text = await registry.metrics();
      expect(text).toMatch(
        /saylau_aggregator_consumer_lag\{stream="tally",topic="ballots",partition="0"\} \d+/,
      );
      expect(text).toMatch(/saylau_aggregator_consumer_lag_total\{stream="issued_turnout"\} \d+/);
    } finally {
      await metrics.close();
    }
  });
});
